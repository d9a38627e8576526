//! Manifest and collection assembly: assets and settings in, the version-neutral model of
//! `iiif::presentation` out. Public reads: no principal, only READY assets.

use iiif::auth::{AccessKind, AccessService, Restriction};
use iiif::presentation::{
    Body, Canvas, Collection, Container, Entry, ImageService, Manifest, Member, MemberKind,
    PLACEHOLDER_SIZE, Range, RangeItem, Rendering, ResourceKind, Text, Thumbnail, Version,
};
use iiif::search::SearchServices;
use iiif::url::{asset_path, segment};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use super::named_queries::QueryResult;
use super::settings::{PresentationSettings, RANGE_SEPARATOR, RangeField, fill_template};
use crate::Domain;
use crate::access_control::{AccessProfile, ActiveKind, AuthService};
use crate::entities::{annotation, asset, customer, space};
use crate::error::{Error, Result};
use crate::model::{Asset, AssetFamily, AssetStatus, media_file_name};

/// Access services already looked up while writing one document, by the roles they grant.
type Restrictions = std::collections::HashMap<Vec<String>, Vec<AccessService>>;

/// Thumbnails in manifests are the smallest stored size at least this long, or the largest.
const THUMBNAIL_EDGE: u32 = 200;

/// The URL layout of published documents, for one base URL and one Presentation version.
#[derive(Debug, Clone)]
pub struct Links {
    base: String,
    version: Version,
}

impl Links {
    /// `base` is the public base URL, without a trailing slash.
    pub fn new(base: impl Into<String>, version: Version) -> Self {
        Self {
            base: base.into(),
            version,
        }
    }

    pub fn version(&self) -> Version {
        self.version
    }

    /// `{base}/iiif/manifest/{v}/{customer}/{space}/{asset}`.
    pub fn manifest(&self, customer: &str, space: i32, id: &str) -> String {
        format!(
            "{}/iiif/manifest/{}/{}",
            self.base,
            self.version.path(),
            asset_path(customer, space, id)
        )
    }

    /// The canvas of an asset, beneath its manifest; named-query manifests use the same one.
    pub fn canvas(&self, customer: &str, space: i32, id: &str) -> String {
        format!("{}/canvas", self.manifest(customer, space, id))
    }

    /// The Auth 2.0 probe of an asset: `{base}/auth/2/probe/{customer}/{space}/{asset}`.
    pub fn probe(&self, customer: &str, space: i32, id: &str) -> String {
        format!(
            "{}/auth/2/probe/{}",
            self.base,
            asset_path(customer, space, id)
        )
    }

    /// The access services offered to visitors, with their token and logout services.
    pub fn access_services(
        &self,
        customer: &str,
        services: &[(AuthService, Vec<String>)],
    ) -> Vec<AccessService> {
        let base = &self.base;
        let customer = segment(customer);
        services
            .iter()
            .map(|(service, _)| {
                let name = segment(&service.name);
                let kind = match (service.profile, service.kind) {
                    (AccessProfile::Active, Some(ActiveKind::Login)) => AccessKind::Login,
                    (AccessProfile::Active, _) => AccessKind::Clickthrough,
                    (AccessProfile::Kiosk, _) => AccessKind::Kiosk,
                    (AccessProfile::External, _) => AccessKind::External,
                };
                AccessService {
                    kind,
                    id: (service.profile != AccessProfile::External)
                        .then(|| format!("{base}/auth/2/{customer}/access/{name}")),
                    label: service.label.clone(),
                    heading: service.heading.clone(),
                    note: service.note.clone(),
                    confirm_label: service.confirm_label.clone(),
                    token: format!("{base}/auth/2/{customer}/token"),
                    token_1: format!("{base}/auth/1/{customer}/token"),
                    logout: format!("{base}/auth/2/{customer}/logout/{name}"),
                }
            })
            .collect()
    }

    fn image_service(&self, asset: &Asset) -> ImageService {
        let path = asset_path(&asset.customer, asset.space, &asset.id);
        ImageService {
            v3: format!("{}/iiif/3/{path}", self.base),
            v2: format!("{}/iiif/2/{path}", self.base),
        }
    }

    fn media(&self, asset: &Asset) -> String {
        format!(
            "{}/media/{}/{}",
            self.base,
            asset_path(&asset.customer, asset.space, &asset.id),
            media_file_name(&asset.media_type)
        )
    }

    /// `{base}/iiif/annotations/{v}/{customer}/{space}/{asset}`: an asset's annotation page.
    pub fn annotations(&self, customer: &str, space: i32, id: &str) -> String {
        format!(
            "{}/iiif/annotations/{}/{}",
            self.base,
            self.version.path(),
            asset_path(customer, space, id)
        )
    }

    /// The path segment of a search API version for these links' Presentation version:
    /// `2` (Search 2.0, Presentation 3 canvases), `1` (Search 1.0 answering for Presentation
    /// 2.1 manifests) or `1p3` (Search 1.0 answering for Presentation 3 manifests, whose
    /// canvas ids differ). No customer name can be `1p3`'s neighbour: the segment sits before
    /// the customer.
    pub fn search_api_path(&self, api: u8) -> &'static str {
        match (api, self.version) {
            (2, _) => "2",
            (_, Version::V2) => "1",
            (_, Version::V3) => "1p3",
        }
    }

    /// The Content Search (`search`) or Autocomplete (`autocomplete`) service of a scope, in
    /// API version 2 or 1: `{base}/iiif/{service}/{api}/{customer}/{space}/{asset}` or
    /// `.../{customer}/query/{name}/{p1}/...`; see [`Links::search_api_path`].
    pub fn search_service(
        &self,
        service: &str,
        api: u8,
        customer: &str,
        scope: &SearchScope,
    ) -> String {
        let path = match scope {
            SearchScope::Asset { space, id } => asset_path(customer, *space, id),
            SearchScope::Query { name, parameters } => {
                let mut path = format!("{}/query/{}", segment(customer), segment(name));
                for parameter in parameters {
                    path.push('/');
                    path.push_str(&segment(parameter));
                }
                path
            }
        };
        format!(
            "{}/iiif/{service}/{}/{path}",
            self.base,
            self.search_api_path(api)
        )
    }

    /// Both versions of a scope's search and autocomplete services.
    pub fn search_services(&self, customer: &str, scope: &SearchScope) -> SearchServices {
        SearchServices {
            search_2: self.search_service("search", 2, customer, scope),
            autocomplete_2: self.search_service("autocomplete", 2, customer, scope),
            search_1: self.search_service("search", 1, customer, scope),
            autocomplete_1: self.search_service("autocomplete", 1, customer, scope),
        }
    }

    /// One annotation of an asset: `{annotations page}/{annotation}`.
    pub fn annotation(&self, customer: &str, space: i32, id: &str, annotation: i64) -> String {
        format!("{}/{annotation}", self.annotations(customer, space, id))
    }

    /// An asset's canvas, or the part of it a region (`#xywh=`) or time range (`#t=`) names.
    pub fn canvas_target(
        &self,
        customer: &str,
        space: i32,
        id: &str,
        xywh: Option<[i32; 4]>,
        time: Option<[f64; 2]>,
    ) -> String {
        let canvas = self.canvas(customer, space, id);
        match (xywh, time) {
            (Some([x, y, w, h]), _) => format!("{canvas}#xywh={x},{y},{w},{h}"),
            (None, Some([start, end])) => format!("{canvas}#t={start},{end}"),
            (None, None) => canvas,
        }
    }

    /// `{base}/iiif/query/{v}/{customer}/{name}/{p1}/...`.
    pub fn query(&self, customer: &str, name: &str, parameters: &[String]) -> String {
        let mut url = format!(
            "{}/iiif/query/{}/{}/{}",
            self.base,
            self.version.path(),
            segment(customer),
            segment(name)
        );
        for parameter in parameters {
            url.push('/');
            url.push_str(&segment(parameter));
        }
        url
    }

    /// A customer's collection (`space: None`) or a space's, or one part of either.
    pub fn collection(&self, customer: &str, space: Option<i32>, part: Option<Part>) -> String {
        let mut url = format!(
            "{}/iiif/collection/{}/{}",
            self.base,
            self.version.path(),
            segment(customer)
        );
        if let Some(space) = space {
            url.push_str(&format!("/{space}"));
        }
        if let Some(part) = part {
            url.push_str(&format!("/part/{}/{}", part.level, part.index));
        }
        url
    }
}

/// One node below the root of a collection tree: at `level` 1 it lists up to `fanout` items;
/// at level L it lists up to `fanout` parts of level L-1. Part `index` of a level covers items
/// `index * fanout^level` up to the next part's first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    pub level: u32,
    pub index: u64,
}

/// A named-query manifest's label: its template filled from the parameters (`p1`...) and the
/// first asset, or the query's name and parameters.
pub(crate) fn query_label(result: &QueryResult, name: &str, parameters: &[String]) -> String {
    match &result.template.label {
        Some(template) => fill_template(template, |placeholder| {
            match placeholder
                .strip_prefix('p')
                .and_then(|number| number.parse::<usize>().ok())
            {
                Some(index) if (1..=parameters.len()).contains(&index) => {
                    parameters[index - 1].clone()
                }
                _ => asset_field(&result.assets[0], placeholder),
            }
        }),
        None if parameters.is_empty() => name.to_owned(),
        None => format!("{name}: {}", parameters.join(" / ")),
    }
}

/// What a search covers: one asset's canvas, or a named query's canvases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchScope {
    Asset {
        space: i32,
        id: String,
    },
    Query {
        name: String,
        parameters: Vec<String>,
    },
}

/// Where a node of a collection tree sits: the items it covers and what it lists.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Node {
    first: u64,
    end: u64,
    /// Parts listed (empty at level 1, where items are listed).
    children: Vec<Part>,
    /// For a part, the part above it (`None`: the root).
    parent: Option<Part>,
}

/// The node for `part` (the root when `None`) of a tree over `total` items with `fanout`
/// items per collection; NOT_FOUND for a part the tree does not have.
fn tree_node(total: u64, fanout: u64, part: Option<Part>) -> Result<Node> {
    let fanout = fanout.max(2);
    let mut root_level = 1u32;
    while fanout.saturating_pow(root_level) < total {
        root_level += 1;
    }
    let (level, index) = match part {
        None => (root_level, 0),
        Some(part) if part.level >= 1 && part.level < root_level => (part.level, part.index),
        Some(_) => return Err(Error::not_found("this collection has no such part")),
    };
    let span = fanout.saturating_pow(level);
    let first = index.saturating_mul(span);
    if part.is_some() && first >= total {
        return Err(Error::not_found("this collection has no such part"));
    }
    let end = first.saturating_add(span).min(total);
    let children = if level == 1 {
        Vec::new()
    } else {
        let child_span = span / fanout;
        (0..fanout)
            .map(|offset| index * fanout + offset)
            .take_while(|child| child * child_span < end)
            .map(|child| Part {
                level: level - 1,
                index: child,
            })
            .collect()
    };
    let parent = Some(Part {
        level: level + 1,
        index: index / fanout,
    })
    .filter(|above| above.level < root_level);
    Ok(Node {
        first,
        end,
        children,
        parent,
    })
}

fn part_range(part: Part, fanout: u64, total: u64) -> (u64, u64) {
    let span = fanout.max(2).saturating_pow(part.level);
    let first = part.index.saturating_mul(span);
    (first, first.saturating_add(span).min(total))
}

/// The stored thumbnail a manifest shows for an asset.
fn thumbnail(asset: &Asset, links: &Links) -> Option<Thumbnail> {
    let sizes = asset.thumbnail_dimensions();
    let chosen = sizes
        .iter()
        .find(|(width, height)| (*width).max(*height) >= THUMBNAIL_EDGE)
        .or(sizes.last())?;
    Some(Thumbnail {
        service: links.image_service(asset),
        width: chosen.0,
        height: chosen.1,
    })
}

/// The canvas that shows an asset: its image, its recording, or a placeholder with the file
/// in `rendering`.
fn canvas(asset: &Asset, links: &Links) -> Canvas {
    let id = links.canvas(&asset.customer, asset.space, &asset.id);
    let size = match (asset.width, asset.height) {
        (Some(width), Some(height)) if width > 0 && height > 0 => {
            Some((width as u32, height as u32))
        }
        _ => None,
    };
    let duration = asset.duration.filter(|seconds| *seconds > 0.0);
    let body = match (asset.family, size, duration) {
        (AssetFamily::Image, Some((width, height)), _) => Some(Body::Image {
            service: links.image_service(asset),
            width,
            height,
        }),
        (AssetFamily::Sound, _, Some(duration)) => Some(Body::Sound {
            id: links.media(asset),
            format: asset.media_type.clone(),
            duration,
        }),
        (AssetFamily::Video, Some((width, height)), Some(duration)) => Some(Body::Video {
            id: links.media(asset),
            format: asset.media_type.clone(),
            width,
            height,
            duration,
        }),
        _ => None,
    };
    let (width, height, duration) = match &body {
        Some(Body::Image { width, height, .. }) => (Some(*width), Some(*height), None),
        Some(Body::Sound { duration, .. }) => (None, None, Some(*duration)),
        Some(Body::Video {
            width,
            height,
            duration,
            ..
        }) => (Some(*width), Some(*height), Some(*duration)),
        None => (Some(PLACEHOLDER_SIZE.0), Some(PLACEHOLDER_SIZE.1), None),
    };
    let rendering = if body.is_none() {
        vec![Rendering {
            id: links.media(asset),
            label: Text::plain(asset.id.clone()),
            format: asset.media_type.clone(),
            kind: ResourceKind::of_media_type(&asset.media_type),
        }]
    } else {
        Vec::new()
    };
    Canvas {
        page_id: format!("{id}/page"),
        annotation_id: format!("{id}/page/painting"),
        id,
        label: Text::plain(asset.id.clone()),
        width,
        height,
        duration,
        restriction: None,
        thumbnail: if asset.family == AssetFamily::Image {
            thumbnail(asset, links)
        } else {
            None
        },
        body,
        rendering,
    }
}

/// An asset's own metadata: its references, numbers and tags, then the fixed entries.
fn asset_metadata(asset: &Asset, settings: &PresentationSettings) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut add = |label: &str, value: String| {
        entries.push(Entry {
            label: Text::in_language(label, "en"),
            value: Text::plain(value),
        })
    };
    for (index, value) in [&asset.string1, &asset.string2, &asset.string3]
        .into_iter()
        .enumerate()
    {
        if let Some(value) = value.as_ref().filter(|value| !value.is_empty()) {
            add(&format!("Reference {}", index + 1), value.clone());
        }
    }
    for (index, value) in [asset.number1, asset.number2, asset.number3]
        .into_iter()
        .enumerate()
    {
        if let Some(value) = value {
            add(&format!("Number {}", index + 1), value.to_string());
        }
    }
    if !asset.tags.is_empty() {
        add("Tags", asset.tags.join(", "));
    }
    entries.extend(fixed_metadata(settings));
    entries
}

fn fixed_metadata(settings: &PresentationSettings) -> Vec<Entry> {
    settings
        .metadata
        .iter()
        .flatten()
        .map(|statement| Entry {
            label: Text::plain(statement.label.clone()),
            value: Text::plain(statement.value.clone()),
        })
        .collect()
}

fn required_statement(settings: &PresentationSettings) -> Option<Entry> {
    settings.required_statement.as_ref().map(|statement| Entry {
        label: Text::plain(statement.label.clone()),
        value: Text::plain(statement.value.clone()),
    })
}

/// What a label template placeholder stands for, for one asset.
fn asset_field(asset: &Asset, name: &str) -> String {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let number = |value: Option<i64>| value.map(|n| n.to_string()).unwrap_or_default();
    match name {
        "id" => asset.id.clone(),
        "space" => asset.space.to_string(),
        "customer" => asset.customer.clone(),
        "s1" => text(&asset.string1),
        "s2" => text(&asset.string2),
        "s3" => text(&asset.string3),
        "n1" => number(asset.number1),
        "n2" => number(asset.number2),
        "n3" => number(asset.number3),
        _ => String::new(),
    }
}

pub(crate) fn asset_label(asset: &Asset, settings: &PresentationSettings) -> String {
    settings
        .manifest_label_template
        .as_ref()
        .map(|template| fill_template(template, |name| asset_field(asset, name)))
        .filter(|label| !label.trim().is_empty())
        .unwrap_or_else(|| asset.id.clone())
}

/// Table-of-contents ranges from the canvases' values of `field`: consecutive canvases with the
/// same value form a range, `|||` nests (`Part 1|||Chapter 2`), canvases without one stay out.
fn ranges(
    assets: &[Asset],
    canvases: &[Canvas],
    field: RangeField,
    manifest_id: &str,
) -> Vec<Range> {
    struct Open {
        label: String,
        range: Range,
    }
    let mut top: Vec<Range> = Vec::new();
    let mut open: Vec<Open> = Vec::new();
    let mut counter = 0usize;
    // closes open ranges down to `depth`, attaching each to its parent
    fn close(open: &mut Vec<Open>, top: &mut Vec<Range>, depth: usize) {
        while open.len() > depth {
            let finished = open.pop().expect("non-empty").range;
            match open.last_mut() {
                Some(parent) => parent.range.items.push(RangeItem::Range(finished)),
                None => top.push(finished),
            }
        }
    }
    for (asset, canvas) in assets.iter().zip(canvases) {
        let value = match field {
            RangeField::String1 => &asset.string1,
            RangeField::String2 => &asset.string2,
            RangeField::String3 => &asset.string3,
        };
        let path: Vec<&str> = value
            .as_deref()
            .unwrap_or_default()
            .split(RANGE_SEPARATOR)
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .collect();
        let shared = open
            .iter()
            .zip(&path)
            .take_while(|(range, label)| range.label == **label)
            .count();
        close(&mut open, &mut top, shared);
        for label in &path[shared..] {
            counter += 1;
            open.push(Open {
                label: (*label).to_owned(),
                range: Range {
                    id: format!("{manifest_id}#range-{counter}"),
                    label: Text::plain(*label),
                    items: Vec::new(),
                },
            });
        }
        if let Some(deepest) = open.last_mut() {
            deepest
                .range
                .items
                .push(RangeItem::Canvas(canvas.id.clone()));
        }
    }
    close(&mut open, &mut top, 0);
    top
}

fn not_ready(asset: &Asset) -> Error {
    match asset.status {
        AssetStatus::Error => Error::not_found(format!(
            "asset {} failed to process: {}",
            asset.id,
            asset.error.as_deref().unwrap_or("unknown error")
        )),
        _ => Error::not_found(format!(
            "asset {} is still being processed; try again shortly",
            asset.id
        )),
    }
}

impl Domain {
    async fn public_space(&self, owner: &customer::Model, space: i32) -> Result<space::Model> {
        space::Entity::find_by_id((owner.id, space))
            .one(self.db())
            .await?
            .ok_or_else(|| Error::not_found(format!("no space {}/{space}", owner.name)))
    }

    /// A READY asset with its customer, its space and the presentation settings that apply.
    pub(crate) async fn published_asset(
        &self,
        customer: &str,
        space: i32,
        id: &str,
    ) -> Result<(customer::Model, space::Model, Asset, PresentationSettings)> {
        let owner = self.public_customer(customer).await?;
        let space_row = self.public_space(&owner, space).await?;
        let asset = self.public_asset(&owner, space, id).await?;
        if asset.status != AssetStatus::Ready {
            return Err(not_ready(&asset));
        }
        let settings = PresentationSettings::decode(space_row.presentation.as_deref())?.or(
            &PresentationSettings::decode(owner.presentation.as_deref())?,
        );
        Ok((owner, space_row, asset, settings))
    }

    /// What a restricted asset's canvas carries: its probe and the services that grant its
    /// roles (looked up once per set of roles in a document).
    async fn restriction(
        &self,
        asset: &Asset,
        links: &Links,
        known: &mut Restrictions,
    ) -> Result<Option<Restriction>> {
        if auth::is_open(&asset.roles, asset.max_unauthorised) {
            return Ok(None);
        }
        let services = match known.get(&asset.roles) {
            Some(services) => services.clone(),
            None => {
                let granting = self
                    .services_granting(asset.customer_id, &asset.roles)
                    .await?;
                let services = links.access_services(&asset.customer, &granting);
                known.insert(asset.roles.clone(), services.clone());
                services
            }
        };
        Ok(Some(Restriction {
            probe: links.probe(&asset.customer, asset.space, &asset.id),
            services,
        }))
    }

    /// The manifest of one READY asset.
    pub async fn asset_manifest(
        &self,
        customer: &str,
        space: i32,
        id: &str,
        links: &Links,
    ) -> Result<Manifest> {
        let (owner, space_row, asset, settings) = self.published_asset(customer, space, id).await?;
        let mut canvas = canvas(&asset, links);
        canvas.restriction = self
            .restriction(&asset, links, &mut Restrictions::new())
            .await?;
        let summary = settings
            .manifest_summary_template
            .as_ref()
            .map(|template| fill_template(template, |name| asset_field(&asset, name)))
            .filter(|summary| !summary.trim().is_empty())
            .map(Text::plain);
        Ok(Manifest {
            id: links.manifest(customer, space, id),
            label: Text::plain(asset_label(&asset, &settings)),
            summary,
            metadata: asset_metadata(&asset, &settings),
            required_statement: required_statement(&settings),
            rights: settings.rights.clone(),
            behavior: Vec::new(),
            viewing_direction: None,
            thumbnail: canvas.thumbnail.clone(),
            rendering: canvas.rendering.clone(),
            canvases: vec![canvas],
            structures: Vec::new(),
            part_of: vec![Container {
                id: links.collection(customer, Some(space), None),
                label: Some(Text::plain(space_row.name)),
            }],
            search: self
                .any_annotated(owner.id, std::slice::from_ref(&asset))
                .await?
                .then(|| {
                    let scope = SearchScope::Asset {
                        space,
                        id: id.to_owned(),
                    };
                    links.search_services(customer, &scope)
                }),
        })
    }

    /// The manifest of a named query with its path parameters.
    pub async fn named_query_manifest(
        &self,
        customer: &str,
        name: &str,
        parameters: &[String],
        links: &Links,
    ) -> Result<Manifest> {
        let owner = self.public_customer(customer).await?;
        let result = self.run_query(&owner, name, parameters).await?;
        if result.assets.is_empty() {
            return Err(Error::not_found(format!(
                "no ready assets match named query {name:?} with these parameters"
            )));
        }
        let customer_settings = PresentationSettings::decode(owner.presentation.as_deref())?;
        let settings = match &result.space {
            Some(space) => {
                PresentationSettings::decode(space.presentation.as_deref())?.or(&customer_settings)
            }
            None => customer_settings,
        };
        let id = links.query(customer, name, parameters);
        let mut restrictions = Restrictions::new();
        let mut canvases: Vec<Canvas> = Vec::with_capacity(result.assets.len());
        for asset in &result.assets {
            let mut painted = canvas(asset, links);
            painted.restriction = self.restriction(asset, links, &mut restrictions).await?;
            canvases.push(painted);
        }
        let label = query_label(&result, name, parameters);
        let structures = settings
            .range_field
            .map(|field| ranges(&result.assets, &canvases, field, &id))
            .unwrap_or_default();
        Ok(Manifest {
            label: Text::plain(label),
            summary: None,
            metadata: fixed_metadata(&settings),
            required_statement: required_statement(&settings),
            rights: settings.rights.clone(),
            behavior: result
                .template
                .behavior
                .clone()
                .or(settings.behavior.clone())
                .unwrap_or_default(),
            viewing_direction: result
                .template
                .viewing_direction
                .clone()
                .or(settings.viewing_direction.clone()),
            thumbnail: canvases.iter().find_map(|canvas| canvas.thumbnail.clone()),
            rendering: Vec::new(),
            structures,
            canvases,
            part_of: Vec::new(),
            search: self
                .any_annotated(owner.id, &result.assets)
                .await?
                .then(|| {
                    let scope = SearchScope::Query {
                        name: name.to_owned(),
                        parameters: parameters.to_vec(),
                    };
                    links.search_services(customer, &scope)
                }),
            id,
        })
    }

    /// Whether any of these assets (of one customer) has an annotation.
    pub(crate) async fn any_annotated(&self, customer_id: i32, assets: &[Asset]) -> Result<bool> {
        for chunk in assets.chunks(400) {
            let found = annotation::Entity::find()
                .select_only()
                .column(annotation::Column::Id)
                .filter(annotation::Column::CustomerId.eq(customer_id))
                .filter(sea_orm::sea_query::ExprTrait::in_tuples(
                    Expr::tuple([
                        Expr::col(annotation::Column::SpaceId),
                        Expr::col(annotation::Column::AssetId),
                    ]),
                    chunk.iter().map(|asset| (asset.space, asset.id.clone())),
                ))
                .limit(1)
                .into_tuple::<i64>()
                .one(self.db())
                .await?;
            if found.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// A customer's spaces as a collection of collections; past `fanout` spaces, a tree.
    pub async fn customer_collection(
        &self,
        customer: &str,
        part: Option<Part>,
        fanout: u64,
        links: &Links,
    ) -> Result<Collection> {
        let owner = self.public_customer(customer).await?;
        let query = space::Entity::find().filter(space::Column::CustomerId.eq(owner.id));
        let total = query.clone().count(self.db()).await?;
        let node = tree_node(total, fanout, part)?;
        let items = if node.children.is_empty() {
            query
                .order_by_asc(space::Column::Id)
                .offset(node.first)
                .limit(node.end - node.first)
                .all(self.db())
                .await?
                .into_iter()
                .map(|row| Member {
                    id: links.collection(customer, Some(row.id), None),
                    kind: MemberKind::Collection,
                    label: Text::plain(row.name),
                    thumbnail: None,
                })
                .collect()
        } else {
            parts(&node, fanout, total, |part| {
                links.collection(customer, None, Some(part))
            })
        };
        Ok(collection_document(
            links.collection(customer, None, part),
            &owner.display_name,
            &node,
            part,
            items,
            |parent| links.collection(customer, None, parent),
            None,
        ))
    }

    /// A space's READY assets as a collection of manifests; past `fanout` assets, a tree.
    pub async fn space_collection(
        &self,
        customer: &str,
        space: i32,
        part: Option<Part>,
        fanout: u64,
        links: &Links,
    ) -> Result<Collection> {
        let owner = self.public_customer(customer).await?;
        let space_row = self.public_space(&owner, space).await?;
        let settings = PresentationSettings::decode(space_row.presentation.as_deref())?.or(
            &PresentationSettings::decode(owner.presentation.as_deref())?,
        );
        let query = asset::Entity::find()
            .filter(asset::Column::CustomerId.eq(owner.id))
            .filter(asset::Column::SpaceId.eq(space))
            .filter(asset::Column::Status.eq(AssetStatus::Ready.as_str()));
        let total = query.clone().count(self.db()).await?;
        let node = tree_node(total, fanout, part)?;
        let items = if node.children.is_empty() {
            query
                .order_by_asc(asset::Column::Id)
                .offset(node.first)
                .limit(node.end - node.first)
                .all(self.db())
                .await?
                .into_iter()
                .map(|row| {
                    let asset = Asset::from_row(row, &owner.name)?;
                    Ok(Member {
                        id: links.manifest(customer, space, &asset.id),
                        kind: MemberKind::Manifest,
                        label: Text::plain(asset_label(&asset, &settings)),
                        thumbnail: thumbnail(&asset, links),
                    })
                })
                .collect::<Result<Vec<_>>>()?
        } else {
            parts(&node, fanout, total, |part| {
                links.collection(customer, Some(space), Some(part))
            })
        };
        Ok(collection_document(
            links.collection(customer, Some(space), part),
            &space_row.name,
            &node,
            part,
            items,
            |parent| links.collection(customer, Some(space), parent),
            Some(Container {
                id: links.collection(customer, None, None),
                label: Some(Text::plain(owner.display_name.clone())),
            }),
        ))
    }
}

/// The sub-collections a tree node lists, labelled with the positions they cover.
fn parts(node: &Node, fanout: u64, total: u64, id: impl Fn(Part) -> String) -> Vec<Member> {
    node.children
        .iter()
        .map(|part| {
            let (first, end) = part_range(*part, fanout, total);
            Member {
                id: id(*part),
                kind: MemberKind::Collection,
                label: Text::plain(format!("Items {} to {}", first + 1, end)),
                thumbnail: None,
            }
        })
        .collect()
}

/// A collection document for a tree node: the root is labelled with its owner's name and
/// points up to `root_parent`; a part points to the node above it.
fn collection_document(
    id: String,
    name: &str,
    node: &Node,
    part: Option<Part>,
    items: Vec<Member>,
    parent_id: impl Fn(Option<Part>) -> String,
    root_parent: Option<Container>,
) -> Collection {
    let (label, part_of) = match part {
        None => (name.to_owned(), root_parent.into_iter().collect()),
        Some(_) => (
            format!("{name}: items {} to {}", node.first + 1, node.end),
            vec![Container {
                id: parent_id(node.parent),
                label: None,
            }],
        ),
    };
    Collection {
        id,
        label: Text::plain(label),
        summary: None,
        behavior: if node.children.is_empty() {
            Vec::new()
        } else {
            vec!["multi-part".to_owned()]
        },
        items,
        part_of,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_sets_are_one_collection() {
        let node = tree_node(7, 10, None).unwrap();
        assert_eq!((node.first, node.end), (0, 7));
        assert!(node.children.is_empty());
        assert!(tree_node(7, 10, Some(Part { level: 1, index: 0 })).is_err());
    }

    #[test]
    fn large_sets_become_a_tree_of_parts() {
        // 250 items, 10 per collection: root (level 3) -> 3 parts of level 2 -> level-1 parts
        let root = tree_node(250, 10, None).unwrap();
        assert_eq!(
            root.children,
            vec![
                Part { level: 2, index: 0 },
                Part { level: 2, index: 1 },
                Part { level: 2, index: 2 }
            ]
        );
        let last = tree_node(250, 10, Some(Part { level: 2, index: 2 })).unwrap();
        assert_eq!((last.first, last.end), (200, 250));
        assert_eq!(last.children.len(), 5);
        let leaf = tree_node(
            250,
            10,
            Some(Part {
                level: 1,
                index: 24,
            }),
        )
        .unwrap();
        assert_eq!((leaf.first, leaf.end), (240, 250));
        assert!(leaf.children.is_empty());
        assert_eq!(leaf.parent, Some(Part { level: 2, index: 2 }));
        assert_eq!(last.parent, None);
        assert!(
            tree_node(
                250,
                10,
                Some(Part {
                    level: 1,
                    index: 25
                })
            )
            .is_err()
        );
        assert!(tree_node(250, 10, Some(Part { level: 3, index: 0 })).is_err());
        assert!(tree_node(250, 10, Some(Part { level: 0, index: 0 })).is_err());
    }
}
