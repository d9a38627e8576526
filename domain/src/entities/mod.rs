//! sea-orm entities: the tables as rows. Services read and write these; nothing outside the
//! domain crate sees them.

pub mod annotation;
pub mod annotation_change;
pub mod api_key;
pub mod asset;
pub mod asset_field;
pub mod asset_tag;
pub mod auth_service;
pub mod batch;
pub mod batch_member;
pub mod customer;
pub mod job;
pub mod named_query;
pub mod origin_rule;
pub mod role;
pub mod space;
pub mod staged_import;
pub mod viewer;
pub mod visitor_session;
