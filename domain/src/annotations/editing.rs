//! Annotations under a principal: created, changed and deleted (each logged for the search
//! indexes), and an asset's annotations listed a page at a time.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::change_log::{lock_change_log, log_change};
use super::check::{Checked, check, new_row};
use super::{Annotation, AnnotationInput, AnnotationPatch};
use crate::entities::{annotation, customer};
use crate::error::{Error, Result};
use crate::paging::{Page, PageRequest};
use crate::{Domain, Principal, validate};

fn annotation_missing(customer: &str, id: i64) -> Error {
    Error::not_found(format!("customer {customer:?} has no annotation {id}"))
}

impl Domain {
    /// Annotates an asset (of any status: OCR often arrives before processing ends).
    pub async fn create_annotation(
        &self,
        principal: &Principal,
        customer: &str,
        space: i32,
        asset_id: &str,
        input: AnnotationInput,
    ) -> Result<Annotation> {
        let target = self.asset(principal, customer, space, asset_id).await?;
        let fields = check(
            Checked {
                motivation: input.motivation.unwrap_or_else(|| "commenting".to_owned()),
                value: input.value,
                format: input.format.unwrap_or_else(|| "text/plain".to_owned()),
                language: input.language,
                region: input.region,
                time: input.time,
                creator: input.creator,
            },
            &target,
        )?;
        let row = new_row(&target, fields, None, Utc::now());
        let txn = self.begin_write().await?;
        lock_change_log(&txn).await?;
        let row = row.insert(&txn).await?;
        log_change(&txn, target.customer_id, space, &target.id).await?;
        txn.commit().await?;
        Ok(Annotation::from_row(row, &target.customer))
    }

    /// Changes the fields a patch names; the result is checked as a whole before it is saved.
    pub async fn update_annotation(
        &self,
        principal: &Principal,
        customer: &str,
        id: i64,
        patch: AnnotationPatch,
    ) -> Result<Annotation> {
        let (owner, row) = self.annotation_in_scope(principal, customer, id).await?;
        let target = self
            .asset(principal, customer, row.space_id, &row.asset_id)
            .await?;
        let current = Annotation::from_row(row.clone(), &owner.name);
        let fields = check(
            Checked {
                motivation: patch.motivation.unwrap_or(current.motivation),
                value: patch.value.unwrap_or(current.value),
                format: patch.format.unwrap_or(current.format),
                language: patch.language.unwrap_or(current.language),
                region: patch.region.unwrap_or(current.region),
                time: patch.time.unwrap_or(current.time),
                creator: patch.creator.unwrap_or(current.creator),
            },
            &target,
        )?;
        let mut active = row.into_active_model();
        active.motivation = Set(fields.motivation);
        active.value = Set(fields.value);
        active.format = Set(fields.format);
        active.language = Set(fields.language);
        active.x = Set(fields.region.map(|r| r.x));
        active.y = Set(fields.region.map(|r| r.y));
        active.w = Set(fields.region.map(|r| r.w));
        active.h = Set(fields.region.map(|r| r.h));
        active.time_start = Set(fields.time.map(|t| t.start));
        active.time_end = Set(fields.time.map(|t| t.end));
        active.creator = Set(fields.creator);
        active.updated = Set(Utc::now());
        let txn = self.begin_write().await?;
        lock_change_log(&txn).await?;
        let saved = active.update(&txn).await?;
        log_change(&txn, saved.customer_id, saved.space_id, &saved.asset_id).await?;
        txn.commit().await?;
        Ok(Annotation::from_row(saved, &owner.name))
    }

    /// Deletes an annotation.
    pub async fn delete_annotation(
        &self,
        principal: &Principal,
        customer: &str,
        id: i64,
    ) -> Result<bool> {
        let (_, row) = self.annotation_in_scope(principal, customer, id).await?;
        let txn = self.begin_write().await?;
        lock_change_log(&txn).await?;
        let deleted = annotation::Entity::delete_by_id(row.id).exec(&txn).await?;
        if deleted.rows_affected == 0 {
            return Err(annotation_missing(customer, id));
        }
        log_change(&txn, row.customer_id, row.space_id, &row.asset_id).await?;
        txn.commit().await?;
        Ok(true)
    }

    /// A page of an asset's annotations in the order they were made, optionally of one
    /// motivation.
    pub async fn asset_annotations(
        &self,
        principal: &Principal,
        customer: &str,
        space: i32,
        asset_id: &str,
        motivation: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Annotation>> {
        let target = self.asset(principal, customer, space, asset_id).await?;
        let window = page.window()?;
        let mut query = annotation::Entity::find()
            .filter(annotation::Column::CustomerId.eq(target.customer_id))
            .filter(annotation::Column::SpaceId.eq(space))
            .filter(annotation::Column::AssetId.eq(target.id.as_str()));
        if let Some(motivation) = motivation {
            if !validate::storable(motivation) {
                return Err(Error::invalid_input("motivation must not contain NUL"));
            }
            query = query.filter(annotation::Column::Motivation.eq(motivation));
        }
        let total = query.clone().count(self.db()).await?;
        let rows = query
            .order_by_asc(annotation::Column::Id)
            .offset(window.offset)
            .limit(window.limit)
            .all(self.db())
            .await?;
        Page::new(window, rows, total)
            .try_map(|row| Ok(Annotation::from_row(row, &target.customer)))
    }

    async fn annotation_in_scope(
        &self,
        principal: &Principal,
        customer: &str,
        id: i64,
    ) -> Result<(customer::Model, annotation::Model)> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let row = annotation::Entity::find_by_id(id)
            .filter(annotation::Column::CustomerId.eq(owner.id))
            .one(self.db())
            .await?
            .ok_or_else(|| annotation_missing(customer, id))?;
        Ok((owner, row))
    }
}
