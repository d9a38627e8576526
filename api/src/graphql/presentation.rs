//! Presentation settings of customers and spaces, and named queries.

use async_graphql::{
    ComplexObject, Context, Enum, InputObject, MaybeUndefined, Object, Result, SimpleObject,
};
use chrono::{DateTime, Utc};

use super::assets::{AssetObject, keep_set_or_clear};
use super::context::{call, request_context};
use crate::error::graphql_error;

/// A label and a value shown with a manifest.
#[derive(SimpleObject, InputObject, Debug, Clone)]
#[graphql(name = "Statement", input_name = "StatementInput")]
pub struct StatementObject {
    /// What the value is, e.g. "Attribution".
    pub label: String,
    /// The text shown.
    pub value: String,
}

impl From<domain::Statement> for StatementObject {
    fn from(statement: domain::Statement) -> Self {
        Self {
            label: statement.label,
            value: statement.value,
        }
    }
}

impl From<StatementObject> for domain::Statement {
    fn from(statement: StatementObject) -> Self {
        Self {
            label: statement.label,
            value: statement.value,
        }
    }
}

/// The asset field whose values form a named-query manifest's table of contents.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum RangeField {
    #[graphql(name = "STRING1")]
    String1,
    #[graphql(name = "STRING2")]
    String2,
    #[graphql(name = "STRING3")]
    String3,
}

impl From<RangeField> for domain::RangeField {
    fn from(field: RangeField) -> Self {
        match field {
            RangeField::String1 => domain::RangeField::String1,
            RangeField::String2 => domain::RangeField::String2,
            RangeField::String3 => domain::RangeField::String3,
        }
    }
}

impl From<domain::RangeField> for RangeField {
    fn from(field: domain::RangeField) -> Self {
        match field {
            domain::RangeField::String1 => RangeField::String1,
            domain::RangeField::String2 => RangeField::String2,
            domain::RangeField::String3 => RangeField::String3,
        }
    }
}

/// How manifests of a customer's or a space's assets are presented. A space's setting wins
/// over its customer's; unset fields fall back.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "PresentationSettings")]
pub struct PresentationObject {
    /// A Creative Commons or RightsStatements.org URI (`rights`).
    pub rights: Option<String>,
    /// The attribution viewers must show (`requiredStatement`).
    pub required_statement: Option<StatementObject>,
    /// The label of single-asset manifests: `{id}`, `{space}`, `{customer}`, `{s1}`-`{s3}`
    /// (or `{string1}`...), `{n1}`-`{n3}` (or `{number1}`...) and descriptive fields' keys
    /// are filled in.
    pub manifest_label_template: Option<String>,
    /// The summary of single-asset manifests, with the same placeholders.
    pub manifest_summary_template: Option<String>,
    /// The `behavior` of named-query manifests (e.g. `paged`).
    pub behavior: Option<Vec<String>>,
    /// The `viewingDirection` of named-query manifests.
    pub viewing_direction: Option<String>,
    /// The field whose values (`Part|||Chapter` nests) form the table of contents of
    /// named-query manifests.
    pub range_field: Option<RangeField>,
    /// Fixed metadata added to every manifest.
    pub metadata: Option<Vec<StatementObject>>,
    /// The descriptive field whose values are a manifest's label (before the template).
    pub label_field: Option<String>,
    /// The descriptive field whose values are a manifest's summary (after the template).
    pub summary_field: Option<String>,
    /// The descriptive fields shown in `metadata`, in order (unset: all the space declares).
    pub metadata_fields: Option<Vec<String>>,
    /// The object's page on the holder's website (`homepage`; `related` in 2.1).
    pub homepage: Option<domain::LinkTemplate>,
    /// A machine-readable description of the object (`seeAlso`).
    pub see_also: Option<domain::LinkTemplate>,
    /// Who provides the manifests (`provider`; `logo` and `related` in 2.1).
    pub provider: Option<domain::ProviderSetting>,
    /// Each canvas's label, e.g. `Page {n1}` (unset: the asset's id).
    pub canvas_label_template: Option<String>,
}

impl From<domain::PresentationSettings> for PresentationObject {
    fn from(settings: domain::PresentationSettings) -> Self {
        Self {
            rights: settings.rights,
            required_statement: settings.required_statement.map(StatementObject::from),
            manifest_label_template: settings.manifest_label_template,
            manifest_summary_template: settings.manifest_summary_template,
            behavior: settings.behavior,
            viewing_direction: settings.viewing_direction,
            range_field: settings.range_field.map(RangeField::from),
            metadata: settings
                .metadata
                .map(|entries| entries.into_iter().map(StatementObject::from).collect()),
            label_field: settings.label_field,
            summary_field: settings.summary_field,
            metadata_fields: settings.metadata_fields,
            homepage: settings.homepage,
            see_also: settings.see_also,
            provider: settings.provider,
            canvas_label_template: settings.canvas_label_template,
        }
    }
}

/// Presentation fields of a customer or space patch: a field left out stays, `null` clears it.
#[derive(InputObject, Debug, Default)]
pub struct PresentationPatchFields {
    /// A Creative Commons or RightsStatements.org URI; `https` forms are stored as `http`.
    pub rights: MaybeUndefined<String>,
    /// The attribution viewers must show.
    pub required_statement: MaybeUndefined<StatementObject>,
    /// The label template of single-asset manifests.
    pub manifest_label_template: MaybeUndefined<String>,
    /// The summary template of single-asset manifests.
    pub manifest_summary_template: MaybeUndefined<String>,
    /// The `behavior` of named-query manifests.
    pub behavior: MaybeUndefined<Vec<String>>,
    /// The `viewingDirection` of named-query manifests.
    pub viewing_direction: MaybeUndefined<String>,
    /// The field that holds table-of-contents entries.
    pub range_field: MaybeUndefined<RangeField>,
    /// Fixed metadata added to every manifest.
    pub metadata: MaybeUndefined<Vec<StatementObject>>,
    /// The descriptive field whose values are a manifest's label.
    pub label_field: MaybeUndefined<String>,
    /// The descriptive field whose values are a manifest's summary.
    pub summary_field: MaybeUndefined<String>,
    /// The descriptive fields shown in `metadata`, in order.
    pub metadata_fields: MaybeUndefined<Vec<String>>,
    /// A URL template of the object's page, e.g.
    /// `https://collections.example.org/objects/{s1}`.
    pub homepage: MaybeUndefined<domain::LinkTemplate>,
    /// A URL template of a machine-readable description of the object.
    pub see_also: MaybeUndefined<domain::LinkTemplate>,
    /// Who provides the manifests.
    pub provider: MaybeUndefined<domain::ProviderSetting>,
    /// Each canvas's label, e.g. `Page {n1}` or `f. {s2}`.
    pub canvas_label_template: MaybeUndefined<String>,
}

impl From<PresentationPatchFields> for domain::PresentationPatch {
    fn from(fields: PresentationPatchFields) -> Self {
        Self {
            rights: keep_set_or_clear(fields.rights),
            required_statement: keep_set_or_clear(fields.required_statement)
                .map(|set| set.map(domain::Statement::from)),
            manifest_label_template: keep_set_or_clear(fields.manifest_label_template),
            manifest_summary_template: keep_set_or_clear(fields.manifest_summary_template),
            behavior: keep_set_or_clear(fields.behavior),
            viewing_direction: keep_set_or_clear(fields.viewing_direction),
            range_field: keep_set_or_clear(fields.range_field)
                .map(|set| set.map(domain::RangeField::from)),
            metadata: keep_set_or_clear(fields.metadata).map(|set| {
                set.map(|entries| entries.into_iter().map(domain::Statement::from).collect())
            }),
            label_field: keep_set_or_clear(fields.label_field),
            summary_field: keep_set_or_clear(fields.summary_field),
            metadata_fields: keep_set_or_clear(fields.metadata_fields),
            homepage: keep_set_or_clear(fields.homepage),
            see_also: keep_set_or_clear(fields.see_also),
            provider: keep_set_or_clear(fields.provider),
            canvas_label_template: keep_set_or_clear(fields.canvas_label_template),
        }
    }
}

/// A stored template that turns asset metadata into a manifest, published at
/// `/iiif/query/{3|2}/{customer}/{name}/{p1}/{p2}...`.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "NamedQuery", complex)]
pub struct NamedQueryObject {
    /// The customer it belongs to.
    pub customer: String,
    /// Name, unique within the customer; one URL segment.
    pub name: String,
    /// The template, e.g. `space=p1&s1=p2&canvas=n1&label=Book {p2}&behavior=paged`.
    pub template: String,
    /// How many path parameters its manifest URL takes after the name.
    pub parameters: i32,
    /// When it was created.
    pub created: DateTime<Utc>,
    /// When it last changed.
    pub updated: DateTime<Utc>,
    #[graphql(skip)]
    base_url: String,
}

impl NamedQueryObject {
    pub(crate) fn new(query: domain::NamedQuery, base_url: &str) -> Self {
        Self {
            customer: query.customer,
            name: query.name,
            template: query.template,
            parameters: i32::try_from(query.parameters).unwrap_or(i32::MAX),
            created: query.created,
            updated: query.updated,
            base_url: base_url.to_owned(),
        }
    }
}

impl NamedQueryObject {
    fn manifest_url(&self, version: iiif::presentation::Version) -> String {
        let placeholders: Vec<String> =
            (1..=self.parameters).map(|n| format!("{{p{n}}}")).collect();
        let base =
            domain::Links::new(&self.base_url, version).query(&self.customer, &self.name, &[]);
        // the placeholders are written as they are, not encoded like real parameters
        std::iter::once(base)
            .chain(placeholders)
            .collect::<Vec<_>>()
            .join("/")
    }
}

#[ComplexObject]
impl NamedQueryObject {
    /// The Presentation 3.0 manifest URL, with `{p1}`..`{pN}` where the parameters go.
    async fn manifest(&self) -> String {
        self.manifest_url(iiif::presentation::Version::V3)
    }

    /// The Presentation 2.1 manifest URL, with `{p1}`..`{pN}` where the parameters go.
    async fn manifest2(&self) -> String {
        self.manifest_url(iiif::presentation::Version::V2)
    }

    /// The first READY assets the manifest would show with these parameters, in canvas order.
    #[graphql(complexity = "super::limits::list_complexity(preview_page(first), child_complexity)")]
    async fn preview(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The path parameters p1..pN, in order.")] parameters: Vec<String>,
        #[graphql(desc = "How many assets to return (at most 1000; default 100).")] first: Option<
            i32,
        >,
    ) -> Result<Vec<AssetObject>> {
        let limit = match first {
            None => super::limits::DEFAULT_PREVIEW_PAGE,
            Some(first) if (0..=super::limits::MAX_PREVIEW_PAGE).contains(&first) => first,
            Some(_) => {
                return Err(graphql_error(domain::Error::invalid_input(format!(
                    "first must be between 0 and {}",
                    super::limits::MAX_PREVIEW_PAGE
                ))));
            }
        };
        let base_url = request_context(ctx)?.base_url.clone();
        let (customer, name) = (&self.customer, &self.name);
        let assets = call(ctx, |domain, principal| async move {
            domain
                .preview_named_query(&principal, customer, name, &parameters, limit as u64)
                .await
        })
        .await?;
        Ok(assets
            .into_iter()
            .map(|asset| AssetObject::new(asset, &base_url))
            .collect())
    }
}

/// The items a preview may return, for its complexity: out-of-range values are refused when
/// it runs, so they count as the largest page.
fn preview_page(first: Option<i32>) -> usize {
    match first {
        None => super::limits::DEFAULT_PREVIEW_PAGE as usize,
        Some(first) => first.clamp(1, super::limits::MAX_PREVIEW_PAGE) as usize,
    }
}

/// A new named query.
#[derive(InputObject, Debug)]
pub struct NamedQueryInput {
    /// Name: 1 to 64 characters of A-Z, a-z, 0-9, '-', '_' and '.'.
    pub name: String,
    /// The template (see `NamedQuery.template`).
    pub template: String,
}

/// Changes to a named query: only the fields given change.
#[derive(InputObject, Debug)]
pub struct NamedQueryPatch {
    /// A new name (its old URLs then answer 404).
    pub name: Option<String>,
    /// A new template.
    pub template: Option<String>,
}

#[derive(Default, Debug)]
pub struct NamedQueryQuery;

#[Object]
impl NamedQueryQuery {
    /// One named query of a customer.
    async fn named_query(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The query's name.")] name: String,
    ) -> Result<NamedQueryObject> {
        let base_url = request_context(ctx)?.base_url.clone();
        let query = call(ctx, |domain, principal| async move {
            domain.named_query(&principal, &customer, &name).await
        })
        .await?;
        Ok(NamedQueryObject::new(query, &base_url))
    }
}

#[derive(Default, Debug)]
pub struct NamedQueryMutation;

#[Object]
impl NamedQueryMutation {
    /// Creates a named query; its template is checked first.
    async fn create_named_query(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The new query.")] input: NamedQueryInput,
    ) -> Result<NamedQueryObject> {
        let base_url = request_context(ctx)?.base_url.clone();
        let input = domain::NamedQueryInput {
            name: input.name,
            template: input.template,
        };
        let query = call(ctx, |domain, principal| async move {
            domain
                .create_named_query(&principal, &customer, input)
                .await
        })
        .await?;
        Ok(NamedQueryObject::new(query, &base_url))
    }

    /// Renames a named query or changes its template.
    async fn update_named_query(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The query's current name.")] name: String,
        #[graphql(desc = "The fields to change.")] input: NamedQueryPatch,
    ) -> Result<NamedQueryObject> {
        let base_url = request_context(ctx)?.base_url.clone();
        let patch = domain::NamedQueryPatch {
            name: input.name,
            template: input.template,
        };
        let query = call(ctx, |domain, principal| async move {
            domain
                .update_named_query(&principal, &customer, &name, patch)
                .await
        })
        .await?;
        Ok(NamedQueryObject::new(query, &base_url))
    }

    /// Deletes a named query; its manifest URLs then answer 404.
    async fn delete_named_query(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The query's name.")] name: String,
    ) -> Result<bool> {
        call(ctx, |domain, principal| async move {
            domain
                .delete_named_query(&principal, &customer, &name)
                .await
        })
        .await
    }
}
