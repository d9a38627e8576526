/// Who is calling. Every domain operation takes one and decides from it alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// No credential was presented.
    Anonymous,
    /// An admin key: acts on every customer.
    Admin { key: String },
    /// A customer's key: acts on that customer only.
    Customer {
        key: String,
        customer_id: i32,
        customer: String,
    },
}

impl Principal {
    /// The API key behind this principal, if any.
    pub fn key(&self) -> Option<&str> {
        match self {
            Principal::Anonymous => None,
            Principal::Admin { key } | Principal::Customer { key, .. } => Some(key),
        }
    }

    pub fn is_admin(&self) -> bool {
        matches!(self, Principal::Admin { .. })
    }
}
