//! The resources of the DLCS API as they travel: hydra JSON-LD with the reference's field
//! names, and the conversions from and to the domain's values.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Caller, Paging};

pub const HYDRA_CONTEXT: &str = "http://www.w3.org/ns/hydra/context.jsonld";

/// An error: hydra's `Status`, with Vitrine's stable `code` (and `message`, as every Vitrine
/// error body has), and for a refused batch the problems of its members.
#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    #[serde(rename = "@context")]
    pub context: &'static str,
    #[serde(rename = "@type")]
    pub kind: &'static str,
    #[serde(rename = "statusCode")]
    pub status_code: u16,
    pub title: String,
    pub description: String,
    /// Vitrine's stable error code (`invalid-origin`, `not-found`, ...).
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<MemberProblem>,
}

/// Why one member of a collection cannot be registered.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberProblem {
    /// The member's position in `member`, from 0.
    pub index: usize,
    /// The property at fault, when one is.
    pub field: Option<String>,
    pub code: String,
    pub message: String,
}

impl From<domain::MemberProblem> for MemberProblem {
    fn from(problem: domain::MemberProblem) -> Self {
        Self {
            index: problem.index,
            field: problem.field.map(str::to_owned),
            code: problem.error.code().to_owned(),
            message: problem.error.message,
        }
    }
}

/// A page of a hydra collection.
#[derive(Debug, Serialize, ToSchema)]
pub struct Collection<T> {
    #[serde(rename = "@context")]
    pub context: &'static str,
    #[serde(rename = "@id")]
    pub id: String,
    #[serde(rename = "@type")]
    pub kind: &'static str,
    #[serde(rename = "totalItems")]
    pub total_items: u64,
    #[serde(rename = "pageSize")]
    pub page_size: i32,
    pub member: Vec<T>,
    pub view: PartialCollectionView,
}

/// Where a page sits in its collection, and the links to its neighbours.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartialCollectionView {
    #[serde(rename = "@id")]
    pub id: String,
    #[serde(rename = "@type")]
    pub kind: &'static str,
    pub page: u64,
    #[serde(rename = "pageSize")]
    pub page_size: i32,
    #[serde(rename = "totalPages")]
    pub total_pages: u64,
    pub first: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    pub last: String,
}

impl<T> Collection<T> {
    /// The collection at `url` (which may carry filters of its own in its query), on page
    /// `paging` of `total_items`.
    pub fn page(url: &str, member: Vec<T>, total_items: u64, paging: Paging) -> Self {
        let size = paging.page_size.max(1) as u64;
        let total_pages = total_items.div_ceil(size).max(1);
        let separator = if url.contains('?') { '&' } else { '?' };
        let at = |page: u64| format!("{url}{separator}page={page}&pageSize={size}");
        Self {
            context: HYDRA_CONTEXT,
            id: url.to_owned(),
            kind: "Collection",
            total_items,
            page_size: paging.page_size,
            member,
            view: PartialCollectionView {
                id: at(paging.page),
                kind: "PartialCollectionView",
                page: paging.page,
                page_size: paging.page_size,
                total_pages,
                first: at(1),
                previous: (paging.page > 1).then(|| at((paging.page - 1).min(total_pages))),
                next: (paging.page < total_pages).then(|| at(paging.page + 1)),
                last: at(total_pages),
            },
        }
    }
}

/// A customer: the tenant every other resource belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct Customer {
    #[serde(rename = "@context")]
    pub context: &'static str,
    #[serde(rename = "@id")]
    pub at_id: String,
    #[serde(rename = "@type")]
    pub kind: &'static str,
    pub id: i32,
    pub name: String,
    #[serde(rename = "displayName")]
    pub display_name: String,
    pub created: DateTime<Utc>,
    /// Link to the customer's spaces.
    pub spaces: String,
    /// Link to the customer's queue.
    pub queue: String,
}

impl Customer {
    /// The customer as found under `api`, the API's base URL.
    pub fn new(api: &str, customer: &domain::Customer) -> Self {
        let url = format!("{api}/customers/{}", customer.id);
        Self {
            context: HYDRA_CONTEXT,
            kind: "vocab:Customer",
            id: customer.id,
            name: customer.name.clone(),
            display_name: customer.display_name.clone(),
            created: customer.created,
            spaces: format!("{url}/spaces"),
            queue: format!("{url}/queue"),
            at_id: url,
        }
    }
}

/// A space: where images are registered, with the defaults new images take.
#[derive(Debug, Serialize, ToSchema)]
pub struct Space {
    #[serde(rename = "@context")]
    pub context: &'static str,
    #[serde(rename = "@id")]
    pub at_id: String,
    #[serde(rename = "@type")]
    pub kind: &'static str,
    pub id: i32,
    pub name: String,
    pub created: DateTime<Utc>,
    #[serde(rename = "defaultTags")]
    pub default_tags: Vec<String>,
    #[serde(rename = "defaultRoles")]
    pub default_roles: Vec<String>,
    #[serde(rename = "maxUnauthorised")]
    pub max_unauthorised: i32,
    #[serde(rename = "approximateNumberOfImages")]
    pub approximate_number_of_images: u64,
    /// Link to the space's images.
    pub images: String,
}

impl Space {
    pub fn new(caller: &Caller, space: domain::Space, images: u64) -> Self {
        let url = caller.space_url(space.id);
        Self {
            context: HYDRA_CONTEXT,
            kind: "vocab:Space",
            id: space.id,
            name: space.name,
            created: space.created,
            default_tags: space.default_tags,
            default_roles: space.default_roles,
            max_unauthorised: space.default_max_unauthorised,
            approximate_number_of_images: images,
            images: format!("{url}/images"),
            at_id: url,
        }
    }
}

/// What a client sends for a space; properties left out keep their value (PATCH) or take
/// the default (POST, PUT).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct SpaceBody {
    pub name: Option<String>,
    #[serde(rename = "defaultTags")]
    pub default_tags: Option<Vec<String>>,
    #[serde(rename = "defaultRoles")]
    pub default_roles: Option<Vec<String>>,
    #[serde(rename = "maxUnauthorised")]
    pub max_unauthorised: Option<i32>,
}

/// An image (any registered asset: image, audio, video or file) as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Image {
    #[serde(rename = "@context")]
    pub context: &'static str,
    #[serde(rename = "@id")]
    pub at_id: String,
    #[serde(rename = "@type")]
    pub kind: &'static str,
    pub id: String,
    pub space: i32,
    /// The IIIF Image API 3 service of an image (its base URI; `/info.json` below it).
    #[serde(rename = "infoJson")]
    pub info_json: Option<String>,
    #[serde(rename = "imageService")]
    pub image_service: Option<String>,
    /// The single-asset IIIF Presentation 3 manifest.
    pub manifest: String,
    pub origin: Option<String>,
    pub tags: Vec<String>,
    pub roles: Vec<String>,
    /// string1-3 and number1-3.
    #[serde(flatten)]
    pub references: domain::References,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub duration: Option<f64>,
    #[serde(rename = "maxUnauthorised")]
    pub max_unauthorised: i32,
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// `I` image, `T` timed media (audio, video), `F` file.
    pub family: &'static str,
    /// Waiting for processing or being processed.
    pub ingesting: bool,
    /// Why the last processing failed; empty when it did not.
    pub error: String,
    /// Link to the batch that last registered it, if one did.
    pub batch: Option<String>,
    pub created: DateTime<Utc>,
    pub finished: Option<DateTime<Utc>>,
}

impl Image {
    pub fn new(caller: &Caller, asset: domain::Asset) -> Self {
        let links = domain::Links::new(caller.public.as_str(), iiif::presentation::Version::V3);
        let service = (asset.family == domain::AssetFamily::Image).then(|| {
            links.image_service_id(
                iiif::image::ApiVersion::V3,
                &asset.customer,
                asset.space,
                &asset.id,
            )
        });
        let ingesting = matches!(
            asset.status,
            domain::AssetStatus::Waiting | domain::AssetStatus::Ingesting
        );
        Self {
            context: HYDRA_CONTEXT,
            at_id: format!(
                "{}/images/{}",
                caller.space_url(asset.space),
                crate::public_url::segment(&asset.id)
            ),
            kind: "vocab:Image",
            space: asset.space,
            info_json: service.clone(),
            image_service: service,
            manifest: links.manifest(&asset.customer, asset.space, &asset.id),
            origin: asset.origin,
            tags: asset.tags,
            roles: asset.roles,
            references: asset.references,
            width: asset.width,
            height: asset.height,
            duration: asset.duration,
            max_unauthorised: asset.max_unauthorised,
            family: match asset.family {
                domain::AssetFamily::Image => "I",
                domain::AssetFamily::Sound | domain::AssetFamily::Video => "T",
                domain::AssetFamily::File => "F",
            },
            media_type: asset.media_type,
            ingesting,
            error: asset.error.unwrap_or_default(),
            batch: asset.batch.map(|batch| caller.batch_url(batch)),
            created: asset.created,
            finished: asset.finished,
            id: asset.id,
        }
    }
}

/// A member of a batch's image collections: the image as it stands, or what the batch knows of
/// one deleted since.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum BatchImage {
    Image(Box<Image>),
    Deleted(DeletedImage),
}

/// A batch member whose image was deleted after the batch ran.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeletedImage {
    #[serde(rename = "@context")]
    pub context: &'static str,
    #[serde(rename = "@id")]
    pub at_id: String,
    #[serde(rename = "@type")]
    pub kind: &'static str,
    pub id: String,
    pub space: i32,
    pub ingesting: bool,
    pub error: String,
    pub batch: String,
}

impl BatchImage {
    pub fn new(
        caller: &Caller,
        member: domain::BatchMember,
        asset: Option<domain::Asset>,
        batch: i64,
    ) -> Self {
        match asset {
            Some(asset) => Self::Image(Box::new(Image::new(caller, asset))),
            None => Self::Deleted(DeletedImage {
                context: HYDRA_CONTEXT,
                at_id: format!(
                    "{}/images/{}",
                    caller.space_url(member.space),
                    crate::public_url::segment(&member.asset_id)
                ),
                kind: "vocab:Image",
                id: member.asset_id,
                space: member.space,
                ingesting: false,
                error: member
                    .error
                    .unwrap_or_else(|| "the image was deleted".to_owned()),
                batch: caller.batch_url(batch),
            }),
        }
    }
}

/// What a client sends for an image. Every property but `origin` may be left out: `id` is
/// assigned by the server on a POST, `mediaType` is then read from the fetched bytes, and the
/// space's defaults apply to tags, roles and maxUnauthorised. On a PATCH, properties left out
/// keep their value and `null` clears string1-3 and number1-3. Properties the DLCS reference
/// does not define (and read-only ones such as `@id`, `width` or `infoJson`) are ignored.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ImageBody {
    pub id: Option<String>,
    /// The space, for members of a queue submission; ignored elsewhere (the URL says).
    pub space: Option<i32>,
    #[serde(rename = "mediaType")]
    pub media_type: Option<String>,
    pub origin: Option<String>,
    pub tags: Option<Vec<String>>,
    pub roles: Option<Vec<String>>,
    /// string1-3 and number1-3; on a PATCH `null` (or `""`) clears one.
    #[serde(flatten)]
    pub references: domain::ReferencesPatch,
    #[serde(rename = "maxUnauthorised")]
    pub max_unauthorised: Option<i32>,
}

impl ImageBody {
    /// The id the body names, if it names one (DLCS clients send `""` for none).
    pub fn given_id(&self) -> Option<String> {
        self.id.clone().filter(|id| !id.is_empty())
    }

    /// The registration this body asks for, under its own id or a new one (a UUID).
    pub fn registration_under_own_id(self) -> domain::AssetInput {
        let id = self.given_id().unwrap_or_else(domain::new_asset_id);
        self.registration(id)
    }

    /// The registration this body asks for, under `id`.
    pub fn registration(self, id: String) -> domain::AssetInput {
        domain::AssetInput {
            id,
            media_type: self.media_type.unwrap_or_default(),
            origin: self.origin,
            // DLCS clients send `""` for a string they do not set
            references: self.references.into_values().without_empty_strings(),
            tags: self.tags,
            roles: self.roles,
            max_unauthorised: self.max_unauthorised,
            fields: Vec::new(),
            published: None,
        }
    }

    /// The changes this body asks for.
    pub fn patch(self) -> domain::AssetPatch {
        domain::AssetPatch {
            // an empty media type (as an image registered without one reads back) changes nothing
            media_type: self.media_type.filter(|media_type| !media_type.is_empty()),
            origin: self.origin,
            references: self.references.with_empty_strings_clearing(),
            tags: self.tags,
            roles: self.roles,
            max_unauthorised: self.max_unauthorised,
            ..Default::default()
        }
    }
}

/// A hydra collection a client sends: images in `member`. Other properties (`@type`,
/// `totalItems`, ...) are ignored.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ImageCollectionBody {
    pub member: Vec<ImageBody>,
}

/// A customer's queue: what waits to be processed, and where its batches are.
#[derive(Debug, Serialize, ToSchema)]
pub struct Queue {
    #[serde(rename = "@context")]
    pub context: &'static str,
    #[serde(rename = "@id")]
    pub at_id: String,
    #[serde(rename = "@type")]
    pub kind: &'static str,
    /// Images waiting for processing or being processed.
    pub size: u64,
    #[serde(rename = "batchesWaiting")]
    pub batches_waiting: u64,
    #[serde(rename = "imagesWaiting")]
    pub images_waiting: u64,
    pub batches: String,
    pub active: String,
    pub recent: String,
}

impl Queue {
    pub fn new(caller: &Caller, counts: domain::QueueCounts) -> Self {
        let url = format!("{}/queue", caller.customer_url());
        Self {
            context: HYDRA_CONTEXT,
            kind: "vocab:Queue",
            size: counts.images_waiting,
            batches_waiting: counts.batches_waiting,
            images_waiting: counts.images_waiting,
            batches: format!("{url}/batches"),
            active: format!("{url}/active"),
            recent: format!("{url}/recent"),
            at_id: url,
        }
    }
}

/// A batch: images submitted together, and how far their processing has come.
#[derive(Debug, Serialize, ToSchema)]
pub struct Batch {
    #[serde(rename = "@context")]
    pub context: &'static str,
    #[serde(rename = "@id")]
    pub at_id: String,
    #[serde(rename = "@type")]
    pub kind: &'static str,
    pub id: i64,
    pub submitted: DateTime<Utc>,
    pub count: i32,
    pub completed: i32,
    pub errors: i32,
    /// When the last member ended, READY or not.
    pub finished: Option<DateTime<Utc>>,
    pub superseded: bool,
    pub images: String,
    #[serde(rename = "completedImages")]
    pub completed_images: String,
    #[serde(rename = "errorImages")]
    pub error_images: String,
}

impl Batch {
    pub fn new(caller: &Caller, batch: domain::Batch) -> Self {
        let url = caller.batch_url(batch.id);
        Self {
            context: HYDRA_CONTEXT,
            kind: "vocab:Batch",
            id: batch.id,
            submitted: batch.submitted,
            count: batch.count,
            completed: batch.completed,
            errors: batch.errors,
            finished: batch.finished,
            superseded: batch.superseded,
            images: format!("{url}/images"),
            completed_images: format!("{url}/completedImages"),
            error_images: format!("{url}/errorImages"),
            at_id: url,
        }
    }
}
