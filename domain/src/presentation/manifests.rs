//! Manifest assembly: assets and settings in, the version-neutral model of
//! `iiif::presentation` out. Public reads: no principal, only READY assets.

use iiif::auth::{AccessService, Restriction};
use iiif::presentation::{
    Body, Canvas, Container, Entry, Link, Localized, Manifest, PLACEHOLDER_SIZE, Provider, Range,
    RangeItem, Rendering, ResourceKind, Text, Thumbnail,
};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use super::links::{Links, SearchScope};
use super::named_queries::QueryResult;
use super::settings::{
    LinkTemplate, PresentationSettings, RANGE_SEPARATOR, RangeField, fill_template, fill_url,
};
use crate::Domain;
use crate::entities::{annotation, customer, space};
use crate::error::{Error, Result};
use crate::fields::{self, FieldDefinition};
use crate::model::{Asset, AssetFamily, AssetStatus};

/// Access services already looked up while writing one document, by the roles they grant.
type Restrictions = std::collections::HashMap<Vec<String>, Vec<AccessService>>;

/// Thumbnails in manifests are the smallest stored size at least this long, or the largest.
const THUMBNAIL_EDGE: u32 = 200;

/// A template placeholder's value for a named-query manifest: `{pN}` from the parameters,
/// anything else from the asset that describes it.
fn query_field(asset: &Asset, parameters: &[String], placeholder: &str) -> String {
    match placeholder
        .strip_prefix('p')
        .and_then(|number| number.parse::<usize>().ok())
    {
        Some(index) if (1..=parameters.len()).contains(&index) => parameters[index - 1].clone(),
        _ => asset_field(asset, placeholder),
    }
}

/// The asset whose descriptive metadata a named-query manifest shows: the first, the last or
/// the one its template names (the first when that one is not among them).
pub(crate) fn describing<'a>(result: &'a QueryResult, parameters: &[String]) -> &'a Asset {
    result
        .template
        .describe
        .pick(&result.assets, |asset| &asset.id, parameters)
        .expect("a named-query manifest is made of one asset or more")
}

/// A named-query manifest's label as text: its template filled from the parameters (`p1`...)
/// and the describing asset, or that asset's label field, or the query's name and
/// parameters.
fn query_label_text(
    result: &QueryResult,
    name: &str,
    parameters: &[String],
    settings: &PresentationSettings,
) -> Text {
    let asset = describing(result, parameters);
    if let Some(template) = &result.template.label {
        let label = fill_template(template, |placeholder| {
            query_field(asset, parameters, placeholder)
        });
        if !label.trim().is_empty() {
            return Text::plain(label);
        }
    }
    if let Some(text) = field_text(asset, settings.label_field.as_deref()) {
        return text;
    }
    if parameters.is_empty() {
        Text::plain(name)
    } else {
        Text::plain(format!("{name}: {}", parameters.join(" / ")))
    }
}

/// A named-query manifest's label as one string (for collections and search results).
pub(crate) fn query_label(
    result: &QueryResult,
    name: &str,
    parameters: &[String],
    settings: &PresentationSettings,
) -> String {
    joined(&query_label_text(result, name, parameters, settings))
}

/// A text's values as one string.
fn joined(text: &Text) -> String {
    text.values()
        .iter()
        .map(|value| value.value.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The values an asset holds for a descriptive field, as a text in no language.
fn field_text(asset: &Asset, key: Option<&str>) -> Option<Text> {
    let key = key?;
    let held = asset.fields.iter().find(|value| value.key == key)?;
    Text::of(held.values.iter().map(|value| Localized {
        language: None,
        value: value.clone(),
    }))
}

/// The stored thumbnail a manifest shows for an asset.
pub(super) fn thumbnail(asset: &Asset, links: &Links) -> Option<Thumbnail> {
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
fn canvas(
    asset: &Asset,
    links: &Links,
    label_template: Option<&str>,
    parameters: &[String],
) -> Canvas {
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
        label: Text::plain(canvas_label(asset, label_template, parameters)),
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

/// A canvas's label: its template filled from the asset (and a named query's parameters), or
/// the asset's id.
fn canvas_label(asset: &Asset, template: Option<&str>, parameters: &[String]) -> String {
    template
        .map(|template| fill_template(template, |name| query_field(asset, parameters, name)))
        .filter(|label| !label.trim().is_empty())
        .unwrap_or_else(|| asset.id.clone())
}

/// An asset's own metadata: the descriptive fields its space declares (those `shown` names,
/// in its order, or all), with their labels in every language; in a space that declares none,
/// its references, numbers and tags. Then the fixed entries.
fn asset_metadata(
    asset: &Asset,
    declared: &[FieldDefinition],
    shown: Option<&[String]>,
    settings: &PresentationSettings,
) -> Vec<Entry> {
    let mut entries = Vec::new();
    if declared.is_empty() {
        let mut add = |label: &str, value: String| {
            entries.push(Entry {
                label: Text::in_language(label, "en"),
                value: Text::plain(value),
            })
        };
        for (index, value) in asset.references.strings().into_iter().enumerate() {
            if let Some(value) = value.filter(|value| !value.is_empty()) {
                add(&format!("Reference {}", index + 1), value.to_owned());
            }
        }
        for (index, value) in asset.references.numbers().into_iter().enumerate() {
            if let Some(value) = value {
                add(&format!("Number {}", index + 1), value.to_string());
            }
        }
        if !asset.tags.is_empty() {
            add("Tags", asset.tags.join(", "));
        }
    } else {
        let chosen: Vec<&FieldDefinition> = match shown {
            Some(keys) => keys
                .iter()
                .filter_map(|key| declared.iter().find(|field| field.key == *key))
                .collect(),
            None => declared.iter().collect(),
        };
        for field in chosen {
            let (Some(label), Some(value)) = (
                Text::of(field.label.iter().map(|label| Localized {
                    language: label.language.clone(),
                    value: label.value.clone(),
                })),
                field_text(asset, Some(&field.key)),
            ) else {
                continue;
            };
            entries.push(Entry { label, value });
        }
    }
    entries.extend(fixed_metadata(settings));
    entries
}

/// A link filled in for an asset (and a named query's parameters), when it has a value.
fn link(
    template: &str,
    setting: Option<&LinkTemplate>,
    value: impl Fn(&str) -> String,
) -> Option<Link> {
    Some(Link {
        id: fill_url(template, value)?,
        label: setting
            .and_then(|link| link.label.as_ref())
            .map(Text::plain),
        format: setting.and_then(|link| link.format.clone()),
        profile: setting.and_then(|link| link.profile.clone()),
    })
}

/// The `provider` of the settings.
fn provider(settings: &PresentationSettings) -> Option<Provider> {
    let provider = settings.provider.as_ref()?;
    Some(Provider {
        id: provider.homepage.clone(),
        label: Text::plain(provider.label.clone()),
        homepage: Some(Link {
            id: provider.homepage.clone(),
            label: Some(Text::plain(provider.label.clone())),
            format: Some("text/html".to_owned()),
            profile: None,
        }),
        logo: provider.logo.clone(),
    })
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

/// What a template placeholder stands for, for one asset: a built-in value, or a
/// descriptive field's values joined by `; ` (empty when unknown).
fn asset_field(asset: &Asset, name: &str) -> String {
    let strings = asset.references.strings();
    let numbers = asset.references.numbers();
    let text = |index: usize| strings[index].unwrap_or_default().to_owned();
    let number = |index: usize| numbers[index].map(|n| n.to_string()).unwrap_or_default();
    match name {
        "id" => asset.id.clone(),
        "space" => asset.space.to_string(),
        "customer" => asset.customer.clone(),
        "s1" | "string1" => text(0),
        "s2" | "string2" => text(1),
        "s3" | "string3" => text(2),
        "n1" | "number1" => number(0),
        "n2" | "number2" => number(1),
        "n3" | "number3" => number(2),
        key => asset
            .fields
            .iter()
            .find(|value| value.key == key)
            .map(|value| value.values.join("; "))
            .unwrap_or_default(),
    }
}

/// A single-asset manifest's label: its label field's values, or its template filled in, or
/// the asset's id.
fn asset_label_text(asset: &Asset, settings: &PresentationSettings) -> Text {
    field_text(asset, settings.label_field.as_deref()).unwrap_or_else(|| {
        Text::plain(
            settings
                .manifest_label_template
                .as_ref()
                .map(|template| fill_template(template, |name| asset_field(asset, name)))
                .filter(|label| !label.trim().is_empty())
                .unwrap_or_else(|| asset.id.clone()),
        )
    })
}

/// A single-asset manifest's label as one string (for collections and search results).
pub(crate) fn asset_label(asset: &Asset, settings: &PresentationSettings) -> String {
    joined(&asset_label_text(asset, settings))
}

/// A summary: the template given, filled in, or the summary field's values.
fn summary(
    template: Option<&str>,
    fill: impl Fn(&str) -> String,
    asset: &Asset,
    settings: &PresentationSettings,
) -> Option<Text> {
    template
        .map(|template| fill_template(template, fill))
        .filter(|summary| !summary.trim().is_empty())
        .map(Text::plain)
        .or_else(|| field_text(asset, settings.summary_field.as_deref()))
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
        let strings = asset.references.strings();
        let value = match field {
            RangeField::String1 => strings[0],
            RangeField::String2 => strings[1],
            RangeField::String3 => strings[2],
        };
        let path: Vec<&str> = value
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

/// The settings a named query's manifest follows: its space's over its customer's, or its
/// customer's when it selects across spaces.
pub(crate) fn query_settings(
    owner: &customer::Model,
    result: &QueryResult,
) -> Result<PresentationSettings> {
    let customer_settings = PresentationSettings::decode(owner.presentation.as_deref())?;
    Ok(match &result.space {
        Some(space) => {
            PresentationSettings::decode(space.presentation.as_deref())?.or(&customer_settings)
        }
        None => customer_settings,
    })
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
        if !asset.published {
            return Err(Error::not_found(format!(
                "customer {customer:?} has no asset {id:?} in space {space}"
            )));
        }
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
        let declared: Vec<FieldDefinition> = fields::decode(space_row.fields.as_deref())?;
        let mut canvas = canvas(
            &asset,
            links,
            settings.canvas_label_template.as_deref(),
            &[],
        );
        canvas.restriction = self
            .restriction(&asset, links, &mut Restrictions::new())
            .await?;
        let value = |name: &str| asset_field(&asset, name);
        let label = asset_label_text(&asset, &settings);
        Ok(Manifest {
            id: links.manifest(customer, space, id),
            summary: summary(
                settings.manifest_summary_template.as_deref(),
                value,
                &asset,
                &settings,
            ),
            metadata: asset_metadata(
                &asset,
                &declared,
                settings.metadata_fields.as_deref(),
                &settings,
            ),
            label,
            required_statement: required_statement(&settings),
            rights: settings.rights.clone(),
            homepage: settings
                .homepage
                .as_ref()
                .and_then(|setting| link(&setting.template, Some(setting), value))
                .into_iter()
                .collect(),
            see_also: settings
                .see_also
                .as_ref()
                .and_then(|setting| link(&setting.template, Some(setting), value))
                .into_iter()
                .collect(),
            provider: provider(&settings),
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
        let settings = query_settings(&owner, &result)?;
        let id = links.query(customer, name, parameters);
        let template = &result.template;
        let canvas_label = template
            .canvas_label
            .as_deref()
            .or(settings.canvas_label_template.as_deref());
        let mut restrictions = Restrictions::new();
        let mut canvases: Vec<Canvas> = Vec::with_capacity(result.assets.len());
        for asset in &result.assets {
            let mut painted = canvas(asset, links, canvas_label, parameters);
            painted.restriction = self.restriction(asset, links, &mut restrictions).await?;
            canvases.push(painted);
        }
        let structures = settings
            .range_field
            .map(|field| ranges(&result.assets, &canvases, field, &id))
            .unwrap_or_default();
        let described = describing(&result, parameters);
        let declared: Vec<FieldDefinition> = match &result.space {
            Some(space) => fields::decode(space.fields.as_deref())?,
            None => fields::decode(
                self.public_space(&owner, described.space)
                    .await?
                    .fields
                    .as_deref(),
            )?,
        };
        let value = |placeholder: &str| query_field(described, parameters, placeholder);
        let query_link = |own: Option<&String>, setting: Option<&LinkTemplate>| -> Vec<Link> {
            match (own, setting) {
                (Some(own), _) => link(own, setting, value),
                (None, Some(setting)) => link(&setting.template, Some(setting), value),
                (None, None) => None,
            }
            .into_iter()
            .collect()
        };
        Ok(Manifest {
            label: query_label_text(&result, name, parameters, &settings),
            summary: summary(template.summary.as_deref(), value, described, &settings),
            metadata: asset_metadata(
                described,
                &declared,
                template
                    .metadata
                    .as_deref()
                    .or(settings.metadata_fields.as_deref()),
                &settings,
            ),
            required_statement: required_statement(&settings),
            rights: settings.rights.clone(),
            homepage: query_link(template.homepage.as_ref(), settings.homepage.as_ref()),
            see_also: query_link(template.see_also.as_ref(), settings.see_also.as_ref()),
            provider: provider(&settings),
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
}
