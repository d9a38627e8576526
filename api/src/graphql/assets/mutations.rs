//! Asset mutations: registering from an origin or from uploaded files (one or up to
//! [`MAX_UPLOAD_FILES`] at once, each succeeding or failing on its own), changing, reprocessing
//! and deleting; and handing a queued job to processing.

use async_graphql::{Context, Object, Result, SimpleObject, Upload};

use super::inputs::{AssetInput, AssetPatch};
use super::object::AssetObject;
use crate::error::graphql_error;
use crate::graphql::context::{call, request_context, upload_file};

/// After a registration queued its job: processes it in this request when the caller waits,
/// otherwise wakes this node's workers and returns the asset as it is (WAITING).
async fn process(ctx: &Context<'_>, asset: domain::Asset, wait: bool) -> Result<domain::Asset> {
    let processing = ctx.data::<crate::processing::Processing>()?;
    processing
        .after_registration(asset, wait)
        .await
        .map_err(graphql_error)
}

/// Most files `uploadAssets` takes in one request.
pub const MAX_UPLOAD_FILES: usize = 10;

/// What became of one file of `uploadAssets`: its asset, or why it was not registered.
#[derive(SimpleObject)]
pub struct UploadResult {
    /// The id the file was registered under (as given in its input, or the one assigned).
    id: String,
    /// The asset, when the file was registered.
    asset: Option<AssetObject>,
    /// The stable error code (as in `extensions.code`) when it was not.
    code: Option<String>,
    /// What went wrong, in words.
    message: Option<String>,
}

impl UploadResult {
    fn failed(id: String, error: &async_graphql::Error) -> Self {
        let code = error
            .extensions
            .as_ref()
            .and_then(|extensions| extensions.get("code"))
            .and_then(|code| match code {
                async_graphql::Value::String(code) => Some(code.clone()),
                _ => None,
            })
            .unwrap_or_else(|| "INTERNAL".to_owned());
        Self {
            id,
            asset: None,
            code: Some(code),
            message: Some(error.message.clone()),
        }
    }
}

#[derive(Default, Debug)]
pub struct AssetMutation;

#[Object]
impl AssetMutation {
    /// Registers an asset in a space and processes it from its origin. Without `wait` it
    /// returns at once with status WAITING and processing goes on in the background; with
    /// `wait: true` it returns once processing has ended, READY or ERROR with the reason.
    async fn register_asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The space's number.")] space: i32,
        #[graphql(desc = "The registration.")] input: AssetInput,
        #[graphql(
            default_with = "Some(false)",
            desc = "Return only once processing has ended."
        )]
        wait: Option<bool>,
    ) -> Result<AssetObject> {
        let base_url = request_context(ctx)?.base_url.clone();
        let input = domain::AssetInput::from(input);
        let asset = call(ctx, |domain, principal| async move {
            domain
                .register_asset(&principal, &customer, space, input)
                .await
        })
        .await?;
        let asset = process(ctx, asset, wait == Some(true)).await?;
        Ok(AssetObject::new(asset, &base_url))
    }

    /// Registers an asset with its master uploaded in the request (GraphQL multipart), and
    /// processes it; `origin` may be left out. `wait` works as for `registerAsset`.
    async fn upload_asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The space's number.")] space: i32,
        #[graphql(desc = "The registration.")] input: AssetInput,
        #[graphql(desc = "The master's bytes.")] file: Upload,
        #[graphql(
            default_with = "Some(false)",
            desc = "Return only once processing has ended."
        )]
        wait: Option<bool>,
    ) -> Result<AssetObject> {
        let base_url = request_context(ctx)?.base_url.clone();
        // the file part was streamed to a temporary file; opened before anything is recorded,
        // so an unreadable upload registers nothing
        let file = upload_file(ctx, file)?;
        let input = domain::AssetInput::from(input);
        let asset = call(ctx, |domain, principal| async move {
            domain
                .register_uploaded_asset(&principal, &customer, space, input)
                .await
        })
        .await?;
        let processing = ctx.data::<crate::processing::Processing>()?;
        processing
            .ingestor
            .store_upload_file(&asset, file)
            .await
            .map_err(|error| {
                graphql_error(domain::Error::internal(format!(
                    "the upload cannot be stored: {error}"
                )))
            })?;
        let asset = process(ctx, asset, wait == Some(true)).await?;
        Ok(AssetObject::new(asset, &base_url))
    }

    /// Registers up to 10 assets with their masters uploaded in one request (GraphQL
    /// multipart): `inputs[i]` describes `files[i]`. More than 10 files, or inputs and files
    /// that do not pair up, are refused before anything is recorded. Each file then succeeds
    /// or fails on its own (a duplicate id, say), and the answer has one result per file, in
    /// order. `wait` works as for `registerAsset`.
    async fn upload_assets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The space's number.")] space: i32,
        #[graphql(desc = "One registration per file, in the files' order.")] inputs: Vec<
            AssetInput,
        >,
        #[graphql(desc = "The masters' bytes, at most 10.")] files: Vec<Upload>,
        #[graphql(
            default_with = "Some(false)",
            desc = "Return only once processing has ended."
        )]
        wait: Option<bool>,
    ) -> Result<Vec<UploadResult>> {
        let base_url = request_context(ctx)?.base_url.clone();
        if files.is_empty() || files.len() > MAX_UPLOAD_FILES {
            return Err(graphql_error(domain::Error::invalid_input(format!(
                "send between 1 and {MAX_UPLOAD_FILES} files at once, not {}",
                files.len()
            ))));
        }
        if inputs.len() != files.len() {
            return Err(graphql_error(domain::Error::invalid_input(format!(
                "{} inputs for {} files: send one input per file",
                inputs.len(),
                files.len()
            ))));
        }
        // every file part must be readable before anything is recorded
        let files = files
            .into_iter()
            .map(|file| upload_file(ctx, file))
            .collect::<Result<Vec<_>>>()?;
        let processing = ctx.data::<crate::processing::Processing>()?;
        let mut results = Vec::with_capacity(files.len());
        for (input, file) in inputs.into_iter().zip(files) {
            let input = domain::AssetInput::from(input);
            let id = input.id.clone();
            let customer = customer.clone();
            let registered = call(ctx, |domain, principal| async move {
                domain
                    .register_uploaded_asset(&principal, &customer, space, input)
                    .await
            })
            .await;
            let asset = match registered {
                Ok(asset) => asset,
                Err(error) => {
                    results.push(UploadResult::failed(id, &error));
                    continue;
                }
            };
            if let Err(error) = processing.ingestor.store_upload_file(&asset, file).await {
                let error =
                    domain::Error::internal(format!("the upload cannot be stored: {error}"));
                results.push(UploadResult::failed(id, &graphql_error(error)));
                continue;
            }
            match process(ctx, asset, wait == Some(true)).await {
                Ok(asset) => results.push(UploadResult {
                    id,
                    asset: Some(AssetObject::new(asset, &base_url)),
                    code: None,
                    message: None,
                }),
                Err(error) => results.push(UploadResult::failed(id, &error)),
            }
        }
        Ok(results)
    }

    /// Changes the fields the patch names and leaves every other field as it is.
    async fn update_asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The space's number.")] space: i32,
        #[graphql(desc = "The asset's id.")] id: String,
        #[graphql(desc = "The fields to change.")] patch: AssetPatch,
    ) -> Result<AssetObject> {
        let base_url = request_context(ctx)?.base_url.clone();
        let patch = domain::AssetPatch::try_from(patch)?;
        let asset = call(ctx, |domain, principal| async move {
            domain
                .update_asset(&principal, &customer, space, &id, patch)
                .await
        })
        .await?;
        if asset.status == domain::AssetStatus::Waiting {
            ctx.data::<crate::processing::Processing>()?.job_queued();
        }
        Ok(AssetObject::new(asset, &base_url))
    }

    /// Processes an asset again from its origin (or its stored upload): it returns at once
    /// with status WAITING, or with `wait: true` once processing has ended.
    async fn reingest_asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The space's number.")] space: i32,
        #[graphql(desc = "The asset's id.")] id: String,
        #[graphql(
            default_with = "Some(false)",
            desc = "Return only once processing has ended."
        )]
        wait: Option<bool>,
    ) -> Result<AssetObject> {
        let base_url = request_context(ctx)?.base_url.clone();
        let asset = call(ctx, |domain, principal| async move {
            domain
                .reingest_asset(&principal, &customer, space, &id)
                .await
        })
        .await?;
        let asset = process(ctx, asset, wait == Some(true)).await?;
        Ok(AssetObject::new(asset, &base_url))
    }

    /// Deletes an asset and every object stored for it (master, pyramid, thumbnails, files).
    async fn delete_asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The space's number.")] space: i32,
        #[graphql(desc = "The asset's id.")] id: String,
    ) -> Result<bool> {
        let deleted = call(ctx, |domain, principal| async move {
            domain.delete_asset(&principal, &customer, space, &id).await
        })
        .await?;
        let processing = ctx.data::<crate::processing::Processing>()?;
        processing
            .remove_stored(&deleted)
            .await
            .map_err(graphql_error)?;
        Ok(true)
    }
}
