//! Public lookups for visitor pages: a customer and its services by name, and the services
//! that grant the roles an asset requires, in the order clients try them.

use std::collections::BTreeMap;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::services::{AccessProfile, AuthService};
use crate::Domain;
use crate::entities::{auth_service, customer, role};
use crate::error::Result;

impl Domain {
    // ---- visitors -------------------------------------------------------------------------

    /// A customer's auth service by name, for its public pages.
    pub async fn public_auth_service(
        &self,
        customer: &str,
        name: &str,
    ) -> Result<(i32, AuthService)> {
        let owner = self.public_customer(customer).await?;
        let service = AuthService::from_row(self.service_row(&owner, name).await?, &owner.name)?;
        Ok((owner.id, service))
    }

    /// A customer's number by name, for visitor pages.
    pub async fn visitor_customer(&self, customer: &str) -> Result<i32> {
        Ok(self.public_customer(customer).await?.id)
    }

    /// A customer's name by number, for the services it owns (empty if it is gone).
    async fn customer_name(&self, customer_id: i32) -> Result<String> {
        Ok(customer::Entity::find_by_id(customer_id)
            .one(self.db())
            .await?
            .map(|row| row.name)
            .unwrap_or_default())
    }

    /// A customer's external services, each with the roles it grants.
    pub async fn external_services(
        &self,
        customer_id: i32,
    ) -> Result<Vec<(AuthService, Vec<String>)>> {
        let customer = self.customer_name(customer_id).await?;
        let mut services = Vec::new();
        for row in auth_service::Entity::find()
            .filter(auth_service::Column::CustomerId.eq(customer_id))
            .filter(auth_service::Column::Profile.eq(AccessProfile::External.as_str()))
            .order_by_asc(auth_service::Column::Name)
            .all(self.db())
            .await?
        {
            let service = AuthService::from_row(row, &customer)?;
            let roles = self.roles_granted_by(&service).await?;
            services.push((service, roles));
        }
        Ok(services)
    }

    /// The roles a service grants.
    pub async fn roles_granted_by(&self, service: &AuthService) -> Result<Vec<String>> {
        Ok(role::Entity::find()
            .filter(role::Column::AuthServiceId.eq(service.id))
            .order_by_asc(role::Column::Name)
            .all(self.db())
            .await?
            .into_iter()
            .map(|role| role.name)
            .collect())
    }

    /// The services that grant any of these roles, each with the roles (of these) it grants, in
    /// the order clients should try them (external, kiosk, active; then by name). Empty when no
    /// service can help.
    pub async fn services_granting(
        &self,
        customer_id: i32,
        roles: &[String],
    ) -> Result<Vec<(AuthService, Vec<String>)>> {
        if roles.is_empty() {
            return Ok(Vec::new());
        }
        let mut granted: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for role in role::Entity::find()
            .filter(role::Column::CustomerId.eq(customer_id))
            .filter(role::Column::Name.is_in(roles.iter().cloned()))
            .all(self.db())
            .await?
        {
            granted
                .entry(role.auth_service_id)
                .or_default()
                .push(role.name);
        }
        if granted.is_empty() {
            return Ok(Vec::new());
        }
        let customer = self.customer_name(customer_id).await?;
        let mut services = Vec::with_capacity(granted.len());
        for row in auth_service::Entity::find()
            .filter(auth_service::Column::Id.is_in(granted.keys().copied()))
            .all(self.db())
            .await?
        {
            let roles = granted.remove(&row.id).unwrap_or_default();
            services.push((AuthService::from_row(row, &customer)?, roles));
        }
        services.sort_by(|(a, _), (b, _)| {
            (a.profile.client_order(), &a.name).cmp(&(b.profile.client_order(), &b.name))
        });
        Ok(services)
    }
}
