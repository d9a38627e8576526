//! A READY asset's published annotations: its public annotation page, refused (401 or 403)
//! when the asset is restricted and the visitor holds none of its roles.

use iiif::presentation::{AnnotationList, TextAnnotation};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::Annotation;
use crate::Domain;
use crate::entities::annotation;
use crate::error::{Error, Result};
use crate::model::{Asset, AssetStatus};
use crate::presentation::Links;

impl Domain {
    /// Every annotation of a READY asset, for its public annotation page.
    pub async fn published_annotations(
        &self,
        customer: &str,
        space: i32,
        asset_id: &str,
    ) -> Result<(Asset, Vec<Annotation>)> {
        let target = self.visible_asset(customer, space, asset_id).await?;
        if target.status != AssetStatus::Ready {
            return Err(Error::not_found(format!(
                "asset {asset_id} is not ready; its annotations are published once it is"
            )));
        }
        let rows = annotation::Entity::find()
            .filter(annotation::Column::CustomerId.eq(target.customer_id))
            .filter(annotation::Column::SpaceId.eq(space))
            .filter(annotation::Column::AssetId.eq(target.id.as_str()))
            .order_by_asc(annotation::Column::Id)
            .all(self.db())
            .await?;
        let annotations = rows
            .into_iter()
            .map(|row| Annotation::from_row(row, &target.customer))
            .collect();
        Ok((target, annotations))
    }

    /// A READY asset's annotation page, and the annotation `only` when given (NOT_FOUND when
    /// the asset has no such annotation).
    pub async fn annotation_list(
        &self,
        customer: &str,
        space: i32,
        asset_id: &str,
        only: Option<i64>,
        links: &Links,
        held: &[String],
    ) -> Result<(AnnotationList, bool)> {
        let (target, annotations) = self
            .published_annotations(customer, space, asset_id)
            .await?;
        let restricted = !auth::is_open(&target.roles, target.max_unauthorised);
        if restricted && !target.roles.iter().any(|role| held.contains(role)) {
            let grantable = !self
                .services_granting(target.customer_id, &target.roles)
                .await?
                .is_empty();
            let message =
                format!("the annotations of {customer}/{space}/{asset_id} are restricted");
            return Err(if grantable {
                Error::unauthenticated(message)
            } else {
                Error::forbidden(message)
            });
        }
        let items: Vec<TextAnnotation> = annotations
            .into_iter()
            .filter(|annotation| only.is_none_or(|id| annotation.id == id))
            .map(|annotation| TextAnnotation {
                id: links.annotation(customer, space, &target.id, annotation.id),
                target: links.canvas_target(
                    customer,
                    space,
                    &target.id,
                    annotation.region.map(|r| [r.x, r.y, r.w, r.h]),
                    annotation.time.map(|t| [t.start, t.end]),
                ),
                motivation: annotation.motivation,
                value: annotation.value,
                format: annotation.format,
                language: annotation.language,
                creator: annotation.creator,
            })
            .collect();
        if only.is_some() && items.is_empty() {
            return Err(Error::not_found(format!(
                "asset {asset_id} has no such annotation"
            )));
        }
        let list = AnnotationList {
            id: links.annotations(customer, space, &target.id),
            label: None,
            items,
        };
        Ok((list, restricted))
    }
}
