//! Tenancy: who may act on which customer. Every service calls one of these before it reads or
//! writes anything, so a refused call has touched nothing.

use auth::Principal;

use crate::error::{Error, Result};

/// Any authenticated principal.
pub(crate) fn require_authenticated(principal: &Principal) -> Result<()> {
    match principal {
        Principal::Anonymous => Err(Error::unauthenticated("a credential is required")),
        Principal::Admin { .. } | Principal::Customer { .. } => Ok(()),
    }
}

/// Admin keys only.
pub(crate) fn require_admin(principal: &Principal) -> Result<()> {
    require_authenticated(principal)?;
    if principal.is_admin() {
        Ok(())
    } else {
        Err(Error::forbidden("this operation needs an admin key"))
    }
}

/// Admin keys, or a key of the named customer. Decided before the customer is looked up, so
/// another tenant's key cannot even learn whether the name exists.
pub(crate) fn require_customer(principal: &Principal, customer: &str) -> Result<()> {
    match principal {
        Principal::Anonymous => Err(Error::unauthenticated("a credential is required")),
        Principal::Admin { .. } => Ok(()),
        Principal::Customer { customer: own, .. } if own == customer => Ok(()),
        Principal::Customer { .. } => Err(Error::forbidden("this key belongs to another customer")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn customer_key(name: &str) -> Principal {
        Principal::Customer {
            key: "k".into(),
            customer_id: 1,
            customer: name.into(),
        }
    }

    #[test]
    fn customer_access_matrix() {
        let admin = Principal::Admin { key: "a".into() };
        assert_eq!(
            require_customer(&Principal::Anonymous, "acme")
                .unwrap_err()
                .kind,
            ErrorKind::Unauthenticated
        );
        assert!(require_customer(&admin, "acme").is_ok());
        assert!(require_customer(&customer_key("acme"), "acme").is_ok());
        assert_eq!(
            require_customer(&customer_key("other"), "acme")
                .unwrap_err()
                .kind,
            ErrorKind::Forbidden
        );
    }

    #[test]
    fn admin_only_matrix() {
        assert_eq!(
            require_admin(&Principal::Anonymous).unwrap_err().kind,
            ErrorKind::Unauthenticated
        );
        assert_eq!(
            require_admin(&customer_key("acme")).unwrap_err().kind,
            ErrorKind::Forbidden
        );
        assert!(require_admin(&Principal::Admin { key: "a".into() }).is_ok());
    }
}
