//! The URL layout of published documents (manifests, canvases, collections, annotation pages,
//! search services and Auth 2.0 services) for one base URL and one Presentation version, and
//! the scope a search service covers.

use iiif::auth::{AccessKind, AccessService};
use iiif::presentation::{ImageService, Version};
use iiif::search::SearchServices;
use iiif::url::{asset_path, segment};

use super::collections::Part;
use crate::access_control::{AccessProfile, ActiveKind, AuthService};
use crate::model::{Asset, media_file_name};

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

    /// An image's Image API service: `{base}/iiif/{3 or 2}/{customer}/{space}/{asset}`.
    pub fn image_service_id(
        &self,
        version: iiif::image::ApiVersion,
        customer: &str,
        space: i32,
        id: &str,
    ) -> String {
        format!(
            "{}/iiif/{}/{}",
            self.base,
            version.path(),
            asset_path(customer, space, id)
        )
    }

    pub(super) fn image_service(&self, asset: &Asset) -> ImageService {
        let service =
            |version| self.image_service_id(version, &asset.customer, asset.space, &asset.id);
        ImageService {
            v3: service(iiif::image::ApiVersion::V3),
            v2: service(iiif::image::ApiVersion::V2),
        }
    }

    /// Where an asset served as stored (audio, video, files) is delivered.
    pub fn media(&self, asset: &Asset) -> String {
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
