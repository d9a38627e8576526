//! Customers: the tenants.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use crate::access::{require_admin, require_customer};
use crate::entities::customer;
use crate::error::{Error, Result};
use crate::model::Customer;
use crate::paging::{Page, PageRequest};
use crate::presentation::{PresentationPatch, PresentationSettings};
use crate::{Domain, Principal, validate};

/// Changes to a customer; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerPatch {
    pub display_name: Option<String>,
    pub presentation: PresentationPatch,
}

/// A new customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerInput {
    /// URL-safe name that addresses the customer in every URL.
    pub name: String,
    /// Human-readable name; defaults to the name.
    pub display_name: Option<String>,
}

impl Domain {
    /// Creates a customer (admin only).
    pub async fn create_customer(
        &self,
        principal: &Principal,
        input: CustomerInput,
    ) -> Result<Customer> {
        require_admin(principal)?;
        validate::customer_name(&input.name)?;
        let display_name = input.display_name.unwrap_or_else(|| input.name.clone());
        validate::display_text("displayName", &display_name)?;
        if self.find_customer(&input.name).await?.is_some() {
            return Err(customer_exists(&input.name));
        }
        let inserted = customer::ActiveModel {
            name: Set(input.name.clone()),
            display_name: Set(display_name),
            created: Set(Utc::now()),
            ..Default::default()
        }
        .insert(self.db())
        .await;
        match inserted {
            Ok(row) => Customer::from_row(row),
            Err(error) if Error::is_unique_violation(&error) => Err(customer_exists(&input.name)),
            Err(error) => Err(error.into()),
        }
    }

    /// Changes a customer's display name or presentation settings: admin keys, or that
    /// customer's own keys. Nothing is written unless every change is valid.
    pub async fn update_customer(
        &self,
        principal: &Principal,
        name: &str,
        patch: CustomerPatch,
    ) -> Result<Customer> {
        let current = self.customer_in_scope(principal, name).await?;
        let settings = PresentationSettings::decode(current.presentation.as_deref())?
            .apply(patch.presentation)?;
        let mut row = current.into_active_model();
        if let Some(display_name) = patch.display_name {
            validate::display_text("displayName", &display_name)?;
            row.display_name = Set(display_name);
        }
        row.presentation = Set(settings.encode());
        Customer::from_row(row.update(self.db()).await?)
    }

    /// One customer, by name: admin keys, or that customer's own keys.
    pub async fn customer(&self, principal: &Principal, name: &str) -> Result<Customer> {
        Customer::from_row(self.customer_in_scope(principal, name).await?)
    }

    /// A customer named in a URL by its name or its number: admin keys, or that customer's
    /// own keys. A name wins over a number (names may be digits), and only a canonical
    /// number (no sign, no leading zero) is taken as one.
    pub async fn customer_by_reference(
        &self,
        principal: &Principal,
        reference: &str,
    ) -> Result<Customer> {
        if let Some(row) = self.find_customer(reference).await? {
            require_customer(principal, &row.name)?;
            return Customer::from_row(row);
        }
        let canonical = !reference.is_empty()
            && reference.bytes().all(|b| b.is_ascii_digit())
            && (reference == "0" || !reference.starts_with('0'));
        if let Some(number) = reference.parse::<i32>().ok().filter(|_| canonical)
            && let Some(row) = customer::Entity::find_by_id(number).one(self.db()).await?
        {
            require_customer(principal, &row.name)?;
            return Customer::from_row(row);
        }
        self.customer(principal, reference).await
    }

    /// Every customer, by name (admin only).
    pub async fn customers(
        &self,
        principal: &Principal,
        page: &PageRequest,
    ) -> Result<Page<Customer>> {
        require_admin(principal)?;
        let window = page.window()?;
        let total = customer::Entity::find().count(self.db()).await?;
        let rows = customer::Entity::find()
            .order_by_asc(customer::Column::Name)
            .offset(window.offset)
            .limit(window.limit)
            .all(self.db())
            .await?;
        Page::new(window, rows, total).try_map(Customer::from_row)
    }

    /// Checks the principal may act on `name`, then loads it (NOT_FOUND when missing).
    pub(crate) async fn customer_in_scope(
        &self,
        principal: &Principal,
        name: &str,
    ) -> Result<customer::Model> {
        require_customer(principal, name)?;
        self.find_customer(name)
            .await?
            .ok_or_else(|| Error::not_found(format!("no customer named {name:?}")))
    }

    async fn find_customer(&self, name: &str) -> Result<Option<customer::Model>> {
        if !validate::storable(name) {
            return Ok(None);
        }
        Ok(customer::Entity::find()
            .filter(customer::Column::Name.eq(name))
            .one(self.db())
            .await?)
    }
}

fn customer_exists(name: &str) -> Error {
    Error::conflict(format!("a customer named {name:?} already exists"))
}
