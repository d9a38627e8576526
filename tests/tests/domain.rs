//! The domain suite: every business rule of customers, keys, spaces and assets, run once on
//! SQLite and once on PostgreSQL (`VITRINE_TEST_DATABASE_URL`).

use auth::ApiKeyCredential;
use domain::{
    AssetFilter, AssetInput, AssetOrder, AssetOrderField, AssetPatch, AssetStatus, Change,
    CustomerInput, Domain, ErrorKind, PageRequest, Principal, References, ReferencesPatch,
    SortDirection, SpaceInput, SpacePatch,
};
use vitrine_tests::{Backend, with_database};

macro_rules! domain_suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { vitrine_tests::with_database(vitrine_tests::Backend::Sqlite, super::$name).await })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { vitrine_tests::with_database(vitrine_tests::Backend::Postgres, super::$name).await })*
        }
    };
}

domain_suite!(
    customers_are_created_listed_and_unique,
    customer_names_are_validated,
    tenancy_is_enforced_on_every_operation,
    spaces_are_numbered_per_customer,
    space_patch_changes_only_named_fields,
    space_with_assets_cannot_be_deleted,
    space_numbers_are_never_reused,
    values_the_database_cannot_store_are_refused_cleanly,
    concurrent_space_creation_numbers_uniquely,
    registration_applies_space_defaults,
    bad_registrations_write_nothing,
    duplicate_asset_id_conflicts,
    asset_patch_changes_only_named_fields,
    assets_are_filtered,
    assets_are_ordered_with_missing_values_last,
    assets_are_paged_with_cursors,
    deleting_an_asset_removes_it_and_its_tags,
    api_keys_authenticate_and_can_be_revoked,
    login_tokens_follow_their_key,
    each_job_is_claimed_by_one_worker,
    transient_failures_are_retried_until_attempts_run_out,
    jobs_of_silent_workers_are_reclaimed,
    a_job_whose_worker_dies_twice_is_poisoned_not_retried,
    batch_counters_follow_member_states,
    retrying_a_batch_requeues_only_its_failed_members,
    retrying_skips_members_deleted_or_taken_over_by_a_later_batch,
    cancelling_a_batch_stops_only_its_waiting_members,
    batch_retry_and_cancel_are_tenancy_checked,
    named_queries_select_ready_assets_in_canvas_order,
    presentation_settings_are_checked_and_merged,
    search_indexes_follow_the_annotation_log,
    visitor_sessions_grant_merge_and_end,
    origin_rule_secrets_are_sealed_at_rest,
    staged_imports_page_every_row_with_its_problems,
    staged_imports_belong_to_their_customer,
    expired_staged_imports_are_refused_and_removed,
    staged_imports_confirm_once_and_only_without_problems,
    staged_imports_refuse_files_that_are_not_csv_imports,
    imports_over_the_batch_limit_become_several_batches,
    the_rest_api_operations_hold_on_every_database,
);

fn admin() -> Principal {
    Principal::Admin {
        key: "suite-admin".into(),
    }
}

async fn new_customer(domain: &Domain, name: &str) -> Principal {
    let customer = domain
        .create_customer(
            &admin(),
            CustomerInput {
                name: name.into(),
                display_name: None,
            },
        )
        .await
        .unwrap();
    Principal::Customer {
        key: format!("{name}-key"),
        customer_id: customer.id,
        customer: customer.name,
    }
}

fn space_named(name: &str) -> SpaceInput {
    SpaceInput {
        name: name.into(),
        ..SpaceInput::default()
    }
}

fn image(id: &str) -> AssetInput {
    AssetInput {
        id: id.into(),
        media_type: "image/jpeg".into(),
        origin: Some(format!("https://example.org/{id}.jpg")),
        ..AssetInput::default()
    }
}

async fn customer_with_space(domain: &Domain, name: &str) -> (Principal, i32) {
    let principal = new_customer(domain, name).await;
    let space = domain
        .create_space(&principal, name, space_named("main"))
        .await
        .unwrap();
    (principal, space.id)
}

fn ids(page: &domain::Page<domain::Asset>) -> Vec<String> {
    page.items
        .iter()
        .map(|(_, asset)| asset.id.clone())
        .collect()
}

async fn customers_are_created_listed_and_unique(domain: Domain) {
    let created = domain
        .create_customer(
            &admin(),
            CustomerInput {
                name: "acme".into(),
                display_name: Some("Acme Museum".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(created.display_name, "Acme Museum");
    let defaulted = domain
        .create_customer(
            &admin(),
            CustomerInput {
                name: "beta".into(),
                display_name: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(defaulted.display_name, "beta");

    let duplicate = domain
        .create_customer(
            &admin(),
            CustomerInput {
                name: "acme".into(),
                display_name: None,
            },
        )
        .await;
    assert_eq!(duplicate.unwrap_err().kind, ErrorKind::Conflict);

    assert_eq!(
        domain.customer(&admin(), "acme").await.unwrap().id,
        created.id
    );
    assert_eq!(
        domain.customer(&admin(), "nobody").await.unwrap_err().kind,
        ErrorKind::NotFound
    );

    let first = domain
        .customers(&admin(), &PageRequest::new(Some(1), None))
        .await
        .unwrap();
    assert_eq!(first.total_count, 2);
    assert_eq!(first.items[0].1.name, "acme");
    assert!(first.has_next_page && !first.has_previous_page);
    let second = domain
        .customers(
            &admin(),
            &PageRequest::new(Some(1), Some(first.items[0].0.clone())),
        )
        .await
        .unwrap();
    assert_eq!(second.items[0].1.name, "beta");
    assert!(!second.has_next_page && second.has_previous_page);
}

async fn customer_names_are_validated(domain: Domain) {
    for name in ["", "Upper", "has space", "-dash", "a/b"] {
        let result = domain
            .create_customer(
                &admin(),
                CustomerInput {
                    name: name.into(),
                    display_name: None,
                },
            )
            .await;
        assert_eq!(result.unwrap_err().kind, ErrorKind::InvalidName, "{name:?}");
    }
    let result = domain
        .create_customer(
            &admin(),
            CustomerInput {
                name: "ok".into(),
                display_name: Some(" padded".into()),
            },
        )
        .await;
    assert_eq!(result.unwrap_err().kind, ErrorKind::InvalidName);
    let none = domain
        .customers(&admin(), &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(none.total_count, 0, "no customer may be half-written");
}

/// Every operation, with no credential, another customer's key, the own key and an admin key.
async fn tenancy_is_enforced_on_every_operation(domain: Domain) {
    let (owner, space) = customer_with_space(&domain, "acme").await;
    let (other, _) = customer_with_space(&domain, "rival").await;
    domain
        .register_asset(&owner, "acme", space, image("a1"))
        .await
        .unwrap();

    for (principal, expected) in [
        (Principal::Anonymous, Some(ErrorKind::Unauthenticated)),
        (other.clone(), Some(ErrorKind::Forbidden)),
    ] {
        let check = |result: Result<(), domain::Error>, operation: &str| {
            assert_eq!(
                result.err().map(|e| e.kind),
                expected,
                "{operation} as {principal:?}"
            );
        };
        check(
            domain.customer(&principal, "acme").await.map(drop),
            "customer",
        );
        check(
            domain.create_api_key(&principal, "acme").await.map(drop),
            "createApiKey",
        );
        check(
            domain.api_keys(&principal, "acme").await.map(drop),
            "apiKeys",
        );
        check(
            domain
                .delete_api_key(&principal, "acme", "any")
                .await
                .map(drop),
            "deleteApiKey",
        );
        check(
            domain
                .create_space(&principal, "acme", space_named("x"))
                .await
                .map(drop),
            "createSpace",
        );
        check(
            domain
                .update_space(
                    &principal,
                    "acme",
                    space,
                    SpacePatch {
                        name: Some("y".into()),
                        ..SpacePatch::default()
                    },
                )
                .await
                .map(drop),
            "updateSpace",
        );
        check(
            domain
                .delete_space(&principal, "acme", space)
                .await
                .map(drop),
            "deleteSpace",
        );
        check(
            domain.space(&principal, "acme", space).await.map(drop),
            "space",
        );
        check(
            domain
                .spaces(&principal, "acme", &PageRequest::default())
                .await
                .map(drop),
            "spaces",
        );
        check(
            domain
                .register_asset(&principal, "acme", space, image("a2"))
                .await
                .map(drop),
            "registerAsset",
        );
        check(
            domain
                .update_asset(
                    &principal,
                    "acme",
                    space,
                    "a1",
                    AssetPatch {
                        references: ReferencesPatch {
                            string1: Change::Set("x".into()),
                            ..Default::default()
                        },
                        ..AssetPatch::default()
                    },
                )
                .await
                .map(drop),
            "updateAsset",
        );
        check(
            domain
                .delete_asset(&principal, "acme", space, "a1")
                .await
                .map(drop),
            "deleteAsset",
        );
        check(
            domain
                .asset(&principal, "acme", space, "a1")
                .await
                .map(drop),
            "asset",
        );
        check(
            domain
                .assets(
                    &principal,
                    "acme",
                    space,
                    &AssetFilter::default(),
                    AssetOrder::default(),
                    &PageRequest::default(),
                )
                .await
                .map(drop),
            "assets",
        );
        // another customer's key is refused even for names that do not exist
        if principal != Principal::Anonymous {
            assert_eq!(
                domain.customer(&principal, "ghost").await.unwrap_err().kind,
                ErrorKind::Forbidden
            );
        }
    }
    // admin-only operations refuse customer keys and anonymous callers
    assert_eq!(
        domain
            .customers(&owner, &PageRequest::default())
            .await
            .unwrap_err()
            .kind,
        ErrorKind::Forbidden
    );
    assert_eq!(
        domain
            .customers(&Principal::Anonymous, &PageRequest::default())
            .await
            .unwrap_err()
            .kind,
        ErrorKind::Unauthenticated
    );
    let create = CustomerInput {
        name: "new".into(),
        display_name: None,
    };
    assert_eq!(
        domain
            .create_customer(&owner, create.clone())
            .await
            .unwrap_err()
            .kind,
        ErrorKind::Forbidden
    );
    assert_eq!(
        domain
            .create_customer(&Principal::Anonymous, create)
            .await
            .unwrap_err()
            .kind,
        ErrorKind::Unauthenticated
    );

    // nothing was read into or changed by the refused calls
    let spaces = domain
        .spaces(&owner, "acme", &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(spaces.total_count, 1);
    assert_eq!(spaces.items[0].1.name, "main");
    let asset = domain.asset(&owner, "acme", space, "a1").await.unwrap();
    assert_eq!(asset.references.string1, None);
    assert_eq!(
        domain
            .assets(
                &admin(),
                "acme",
                space,
                &AssetFilter::default(),
                AssetOrder::default(),
                &PageRequest::default()
            )
            .await
            .unwrap()
            .total_count,
        1
    );
    assert!(domain.api_keys(&owner, "acme").await.unwrap().is_empty());
    assert_eq!(
        domain
            .customers(&admin(), &PageRequest::default())
            .await
            .unwrap()
            .total_count,
        2
    );

    // the owner and admins can do everything
    for principal in [owner.clone(), admin()] {
        domain.asset(&principal, "acme", space, "a1").await.unwrap();
        domain.space(&principal, "acme", space).await.unwrap();
        domain.customer(&principal, "acme").await.unwrap();
    }
}

async fn spaces_are_numbered_per_customer(domain: Domain) {
    let acme = new_customer(&domain, "acme").await;
    let beta = new_customer(&domain, "beta").await;
    let first = domain
        .create_space(&acme, "acme", space_named("one"))
        .await
        .unwrap();
    let second = domain
        .create_space(&acme, "acme", space_named("two"))
        .await
        .unwrap();
    let other = domain
        .create_space(&beta, "beta", space_named("one"))
        .await
        .unwrap();
    assert_eq!((first.id, second.id, other.id), (1, 2, 1));
    assert_eq!(first.default_max_unauthorised, -1);
    assert_eq!(first.thumbnail_sizes, vec![100, 200, 400, 1024]);

    let duplicate = domain.create_space(&acme, "acme", space_named("one")).await;
    assert_eq!(duplicate.unwrap_err().kind, ErrorKind::Conflict);
    let bad_name = domain.create_space(&acme, "acme", space_named("")).await;
    assert_eq!(bad_name.unwrap_err().kind, ErrorKind::InvalidName);
    let bad_default = domain
        .create_space(
            &acme,
            "acme",
            SpaceInput {
                name: "x".into(),
                default_max_unauthorised: Some(-5),
                ..SpaceInput::default()
            },
        )
        .await;
    assert_eq!(bad_default.unwrap_err().kind, ErrorKind::InvalidInput);
    let bad_tags = domain
        .create_space(
            &acme,
            "acme",
            SpaceInput {
                name: "x".into(),
                default_tags: vec!["a;b".into()],
                ..SpaceInput::default()
            },
        )
        .await;
    assert_eq!(bad_tags.unwrap_err().kind, ErrorKind::InvalidInput);
    assert_eq!(
        domain
            .spaces(&acme, "acme", &PageRequest::default())
            .await
            .unwrap()
            .total_count,
        2
    );
    assert_eq!(
        domain.space(&acme, "acme", 9).await.unwrap_err().kind,
        ErrorKind::NotFound
    );
}

async fn space_patch_changes_only_named_fields(domain: Domain) {
    let acme = new_customer(&domain, "acme").await;
    let input = SpaceInput {
        name: "books".into(),
        default_roles: vec!["staff".into()],
        default_tags: vec!["book".into()],
        default_max_unauthorised: Some(200),
        thumbnail_sizes: Some(vec![150, 300]),
        ..Default::default()
    };
    let space = domain.create_space(&acme, "acme", input).await.unwrap();
    domain
        .create_space(&acme, "acme", space_named("maps"))
        .await
        .unwrap();
    let patched = domain
        .update_space(
            &acme,
            "acme",
            space.id,
            SpacePatch {
                default_tags: Some(vec!["rare".into()]),
                ..SpacePatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(patched.default_tags, vec!["rare"]);
    assert_eq!(patched.name, "books");
    assert_eq!(patched.default_roles, vec!["staff"]);
    assert_eq!(patched.default_max_unauthorised, 200);
    assert_eq!(patched.thumbnail_sizes, vec![150, 300]);

    let taken = domain
        .update_space(
            &acme,
            "acme",
            space.id,
            SpacePatch {
                name: Some("maps".into()),
                ..SpacePatch::default()
            },
        )
        .await;
    assert_eq!(taken.unwrap_err().kind, ErrorKind::Conflict);
    let same_name = domain
        .update_space(
            &acme,
            "acme",
            space.id,
            SpacePatch {
                name: Some("books".into()),
                ..SpacePatch::default()
            },
        )
        .await;
    assert!(
        same_name.is_ok(),
        "renaming a space to its own name is no conflict"
    );
    let invalid = domain
        .update_space(
            &acme,
            "acme",
            space.id,
            SpacePatch {
                thumbnail_sizes: Some(vec![]),
                ..SpacePatch::default()
            },
        )
        .await;
    assert_eq!(invalid.unwrap_err().kind, ErrorKind::InvalidInput);
    assert_eq!(
        domain
            .space(&acme, "acme", space.id)
            .await
            .unwrap()
            .thumbnail_sizes,
        vec![150, 300]
    );
}

async fn space_with_assets_cannot_be_deleted(domain: Domain) {
    let (acme, space) = customer_with_space(&domain, "acme").await;
    domain
        .register_asset(&acme, "acme", space, image("a"))
        .await
        .unwrap();
    assert_eq!(
        domain
            .delete_space(&acme, "acme", space)
            .await
            .unwrap_err()
            .kind,
        ErrorKind::Conflict
    );
    domain
        .delete_asset(&acme, "acme", space, "a")
        .await
        .unwrap();
    assert!(domain.delete_space(&acme, "acme", space).await.unwrap());
    assert_eq!(
        domain.space(&acme, "acme", space).await.unwrap_err().kind,
        ErrorKind::NotFound
    );
    assert_eq!(
        domain
            .delete_space(&acme, "acme", space)
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
}

async fn space_numbers_are_never_reused(domain: Domain) {
    let acme = new_customer(&domain, "acme").await;
    domain
        .create_space(&acme, "acme", space_named("one"))
        .await
        .unwrap();
    let two = domain
        .create_space(&acme, "acme", space_named("two"))
        .await
        .unwrap();
    domain.delete_space(&acme, "acme", two.id).await.unwrap();
    // a refused creation uses up no number either
    let refused = domain.create_space(&acme, "acme", space_named("one")).await;
    assert_eq!(refused.unwrap_err().kind, ErrorKind::Conflict);
    let three = domain
        .create_space(&acme, "acme", space_named("three"))
        .await
        .unwrap();
    assert_eq!(
        three.id, 3,
        "space 2's URLs must never point at another space"
    );
}

/// PostgreSQL refuses NUL in text: such values must be answered like any other miss, never
/// with an internal error.
async fn values_the_database_cannot_store_are_refused_cleanly(domain: Domain) {
    let (acme, space) = customer_with_space(&domain, "acme").await;
    domain
        .register_asset(&acme, "acme", space, image("a"))
        .await
        .unwrap();
    let nul = "a\0b";
    assert_eq!(
        domain
            .asset(&acme, "acme", space, nul)
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
    assert_eq!(
        domain
            .delete_asset(&acme, "acme", space, nul)
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
    let patch = AssetPatch {
        references: ReferencesPatch {
            number1: Change::Set(1),
            ..Default::default()
        },
        ..AssetPatch::default()
    };
    assert_eq!(
        domain
            .update_asset(&acme, "acme", space, nul, patch)
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
    assert_eq!(
        domain.customer(&admin(), nul).await.unwrap_err().kind,
        ErrorKind::NotFound
    );
    assert_eq!(
        domain
            .delete_api_key(&acme, "acme", nul)
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
    for filter in [
        AssetFilter {
            references: References {
                string1: Some(nul.into()),
                ..Default::default()
            },
            ..AssetFilter::default()
        },
        AssetFilter {
            tag: Some(nul.into()),
            ..AssetFilter::default()
        },
        AssetFilter {
            media_type: Some(nul.into()),
            ..AssetFilter::default()
        },
    ] {
        let result = domain
            .assets(
                &acme,
                "acme",
                space,
                &filter,
                AssetOrder::default(),
                &PageRequest::default(),
            )
            .await;
        assert_eq!(result.unwrap_err().kind, ErrorKind::InvalidInput);
    }
    let credential = ApiKeyCredential {
        key: nul.into(),
        secret: "secret".into(),
    };
    assert_eq!(
        domain.authenticate_key(&credential).await.unwrap_err().kind,
        ErrorKind::Unauthenticated
    );
    let registration = AssetInput {
        id: nul.into(),
        ..image("x")
    };
    assert_eq!(
        domain
            .register_asset(&acme, "acme", space, registration)
            .await
            .unwrap_err()
            .kind,
        ErrorKind::InvalidId
    );
    let origin = AssetInput {
        origin: Some("https://example.org/a\0.jpg".into()),
        ..image("x")
    };
    assert_eq!(
        domain
            .register_asset(&acme, "acme", space, origin)
            .await
            .unwrap_err()
            .kind,
        ErrorKind::InvalidOrigin
    );
    let reference = AssetInput {
        references: References {
            string2: Some(nul.into()),
            ..Default::default()
        },
        ..image("x")
    };
    assert_eq!(
        domain
            .register_asset(&acme, "acme", space, reference)
            .await
            .unwrap_err()
            .kind,
        ErrorKind::InvalidInput
    );
}

async fn concurrent_space_creation_numbers_uniquely(domain: Domain) {
    let acme = new_customer(&domain, "acme").await;
    let creations = (0..8).map(|index| {
        let (domain, acme) = (domain.clone(), acme.clone());
        tokio::spawn(async move {
            domain
                .create_space(&acme, "acme", space_named(&format!("space {index}")))
                .await
        })
    });
    let mut numbers = Vec::new();
    for creation in futures::future::join_all(creations).await {
        numbers.push(creation.unwrap().unwrap().id);
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=8).collect::<Vec<_>>());
}

async fn registration_applies_space_defaults(domain: Domain) {
    let acme = new_customer(&domain, "acme").await;
    let input = SpaceInput {
        name: "restricted".into(),
        default_roles: vec!["reader".into()],
        default_tags: vec!["archive".into()],
        default_max_unauthorised: Some(400),
        ..Default::default()
    };
    let space = domain.create_space(&acme, "acme", input).await.unwrap().id;
    let defaulted = domain
        .register_asset(&acme, "acme", space, image("plain"))
        .await
        .unwrap();
    assert_eq!(defaulted.roles, vec!["reader"]);
    assert_eq!(defaulted.tags, vec!["archive"]);
    assert_eq!(defaulted.max_unauthorised, 400);
    assert_eq!(defaulted.status, AssetStatus::Waiting);
    assert_eq!(defaulted.family, domain::AssetFamily::Image);
    assert!(defaulted.finished.is_none() && defaulted.width.is_none());

    let explicit = AssetInput {
        media_type: "audio/mpeg".into(),
        references: References {
            string1: Some("book-1".into()),
            number1: Some(7),
            ..Default::default()
        },
        tags: Some(vec![]),
        roles: Some(vec![]),
        max_unauthorised: Some(-1),
        ..image("own")
    };
    let registered = domain
        .register_asset(&acme, "acme", space, explicit)
        .await
        .unwrap();
    assert!(registered.roles.is_empty() && registered.tags.is_empty());
    assert_eq!(registered.max_unauthorised, -1);
    assert_eq!(registered.family, domain::AssetFamily::Sound);
    assert_eq!(
        domain.asset(&acme, "acme", space, "own").await.unwrap(),
        registered
    );
}

async fn bad_registrations_write_nothing(domain: Domain) {
    let (acme, space) = customer_with_space(&domain, "acme").await;
    let long_id = "x".repeat(256);
    let cases: Vec<(AssetInput, ErrorKind)> = vec![
        (image(""), ErrorKind::InvalidId),
        (image(&long_id), ErrorKind::InvalidId),
        (
            AssetInput {
                id: "a/b".into(),
                ..image("x")
            },
            ErrorKind::InvalidId,
        ),
        (
            AssetInput {
                id: "bell\u{7}".into(),
                ..image("x")
            },
            ErrorKind::InvalidId,
        ),
        (
            AssetInput {
                id: " padded ".into(),
                ..image("x")
            },
            ErrorKind::InvalidId,
        ),
        (
            AssetInput {
                media_type: "jpeg".into(),
                ..image("x")
            },
            ErrorKind::InvalidMediaType,
        ),
        (
            AssetInput {
                media_type: "image/".into(),
                ..image("x")
            },
            ErrorKind::InvalidMediaType,
        ),
        (
            AssetInput {
                origin: Some("ftp://host/x.jpg".into()),
                ..image("x")
            },
            ErrorKind::InvalidOrigin,
        ),
        (
            AssetInput {
                origin: Some("not a url".into()),
                ..image("x")
            },
            ErrorKind::InvalidOrigin,
        ),
        (
            AssetInput {
                origin: None,
                ..image("x")
            },
            ErrorKind::InvalidOrigin,
        ),
        (
            AssetInput {
                max_unauthorised: Some(-2),
                ..image("x")
            },
            ErrorKind::InvalidInput,
        ),
        (
            AssetInput {
                tags: Some(vec!["".into()]),
                ..image("x")
            },
            ErrorKind::InvalidInput,
        ),
        (
            AssetInput {
                references: References {
                    string1: Some("x".repeat(2000)),
                    ..Default::default()
                },
                ..image("x")
            },
            ErrorKind::InvalidInput,
        ),
    ];
    for (input, expected) in cases {
        let id = input.id.clone();
        let error = domain
            .register_asset(&acme, "acme", space, input)
            .await
            .unwrap_err();
        assert_eq!(error.kind, expected, "{id:?}: {error}");
    }
    assert_eq!(
        domain
            .register_asset(&acme, "acme", 99, image("x"))
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
    assert_eq!(
        domain
            .register_asset(&admin(), "ghost", space, image("x"))
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
    let all = domain
        .assets(
            &acme,
            "acme",
            space,
            &AssetFilter::default(),
            AssetOrder::default(),
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(all.total_count, 0, "no asset may be half-written");
}

async fn duplicate_asset_id_conflicts(domain: Domain) {
    let (acme, space) = customer_with_space(&domain, "acme").await;
    domain
        .register_asset(
            &acme,
            "acme",
            space,
            AssetInput {
                references: References {
                    string1: Some("first".into()),
                    ..Default::default()
                },
                ..image("dup")
            },
        )
        .await
        .unwrap();
    let again = domain
        .register_asset(
            &acme,
            "acme",
            space,
            AssetInput {
                references: References {
                    string1: Some("second".into()),
                    ..Default::default()
                },
                ..image("dup")
            },
        )
        .await;
    assert_eq!(again.unwrap_err().kind, ErrorKind::Conflict);
    assert_eq!(
        domain
            .asset(&acme, "acme", space, "dup")
            .await
            .unwrap()
            .references
            .string1
            .as_deref(),
        Some("first")
    );
    // the same id in another space is another asset
    let other_space = domain
        .create_space(&acme, "acme", space_named("other"))
        .await
        .unwrap()
        .id;
    domain
        .register_asset(&acme, "acme", other_space, image("dup"))
        .await
        .unwrap();
}

async fn asset_patch_changes_only_named_fields(domain: Domain) {
    let (acme, space) = customer_with_space(&domain, "acme").await;
    let input = AssetInput {
        references: References {
            string1: Some("book".into()),
            string2: Some("vol-1".into()),
            number1: Some(3),
            number2: Some(9),
            ..Default::default()
        },
        tags: Some(vec!["a".into(), "b".into()]),
        roles: Some(vec!["staff".into()]),
        max_unauthorised: Some(100),
        ..image("page")
    };
    let original = domain
        .register_asset(&acme, "acme", space, input)
        .await
        .unwrap();

    let patch = AssetPatch {
        references: ReferencesPatch {
            number1: Change::Set(4),
            string2: Change::Clear,
            ..Default::default()
        },
        ..AssetPatch::default()
    };
    let patched = domain
        .update_asset(&acme, "acme", space, "page", patch)
        .await
        .unwrap();
    assert_eq!(patched.references.number1, Some(4));
    assert_eq!(patched.references.string2, None);
    assert_eq!(patched.references.string1.as_deref(), Some("book"));
    assert_eq!(patched.references.number2, Some(9));
    assert_eq!(patched.tags, original.tags);
    assert_eq!(patched.roles, original.roles);
    assert_eq!(patched.max_unauthorised, 100);
    assert_eq!(patched.origin, original.origin);
    assert_eq!(patched.created, original.created);

    let retyped = AssetPatch {
        media_type: Some("video/mp4".into()),
        tags: Some(vec!["c".into()]),
        ..AssetPatch::default()
    };
    let retyped = domain
        .update_asset(&acme, "acme", space, "page", retyped)
        .await
        .unwrap();
    assert_eq!(retyped.family, domain::AssetFamily::Video);
    assert_eq!(retyped.tags, vec!["c"]);
    let tagged_c = AssetFilter {
        tag: Some("c".into()),
        ..AssetFilter::default()
    };
    let tagged_a = AssetFilter {
        tag: Some("a".into()),
        ..AssetFilter::default()
    };
    let page = PageRequest::default();
    assert_eq!(
        domain
            .assets(
                &acme,
                "acme",
                space,
                &tagged_c,
                AssetOrder::default(),
                &page
            )
            .await
            .unwrap()
            .total_count,
        1
    );
    assert_eq!(
        domain
            .assets(
                &acme,
                "acme",
                space,
                &tagged_a,
                AssetOrder::default(),
                &page
            )
            .await
            .unwrap()
            .total_count,
        0
    );

    for (patch, expected) in [
        (
            AssetPatch {
                media_type: Some("nope".into()),
                ..AssetPatch::default()
            },
            ErrorKind::InvalidMediaType,
        ),
        (
            AssetPatch {
                origin: Some("gopher://x".into()),
                ..AssetPatch::default()
            },
            ErrorKind::InvalidOrigin,
        ),
        (
            AssetPatch {
                max_unauthorised: Some(-9),
                references: ReferencesPatch {
                    number1: Change::Set(1),
                    ..Default::default()
                },
                ..AssetPatch::default()
            },
            ErrorKind::InvalidInput,
        ),
        (
            AssetPatch {
                roles: Some(vec![" r".into()]),
                ..AssetPatch::default()
            },
            ErrorKind::InvalidInput,
        ),
    ] {
        assert_eq!(
            domain
                .update_asset(&acme, "acme", space, "page", patch)
                .await
                .unwrap_err()
                .kind,
            expected
        );
    }
    let unchanged = domain.asset(&acme, "acme", space, "page").await.unwrap();
    assert_eq!(
        unchanged.references.number1,
        Some(4),
        "a refused patch changes nothing"
    );
    let missing = domain
        .update_asset(&acme, "acme", space, "nope", AssetPatch::default())
        .await;
    assert_eq!(missing.unwrap_err().kind, ErrorKind::NotFound);
}

async fn assets_are_filtered(domain: Domain) {
    let (acme, space) = customer_with_space(&domain, "acme").await;
    for (id, book, page, tags, media_type) in [
        ("b1-p1", "b1", 1, vec!["book"], "image/jpeg"),
        ("b1-p2", "b1", 2, vec!["book", "colour"], "image/tiff"),
        ("b2-p1", "b2", 1, vec!["book"], "image/jpeg"),
        ("song", "s", 1, vec![], "audio/mpeg"),
    ] {
        let input = AssetInput {
            references: References {
                string1: Some(book.into()),
                number1: Some(page),
                ..Default::default()
            },
            tags: Some(tags.into_iter().map(String::from).collect()),
            media_type: media_type.into(),
            ..image(id)
        };
        domain
            .register_asset(&acme, "acme", space, input)
            .await
            .unwrap();
    }
    let query = |filter: AssetFilter| {
        let (domain, acme) = (domain.clone(), acme.clone());
        async move {
            ids(&domain
                .assets(
                    &acme,
                    "acme",
                    space,
                    &filter,
                    AssetOrder::default(),
                    &PageRequest::default(),
                )
                .await
                .unwrap())
        }
    };
    assert_eq!(
        query(AssetFilter {
            references: References {
                string1: Some("b1".into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .await,
        ["b1-p1", "b1-p2"]
    );
    assert_eq!(
        query(AssetFilter {
            references: References {
                number1: Some(1),
                ..Default::default()
            },
            ..Default::default()
        })
        .await,
        ["b1-p1", "b2-p1", "song"]
    );
    assert_eq!(
        query(AssetFilter {
            references: References {
                string1: Some("b1".into()),
                number1: Some(2),
                ..Default::default()
            },
            ..Default::default()
        })
        .await,
        ["b1-p2"]
    );
    assert_eq!(
        query(AssetFilter {
            tag: Some("colour".into()),
            ..Default::default()
        })
        .await,
        ["b1-p2"]
    );
    assert_eq!(
        query(AssetFilter {
            tag: Some("book".into()),
            ..Default::default()
        })
        .await,
        ["b1-p1", "b1-p2", "b2-p1"]
    );
    assert_eq!(
        query(AssetFilter {
            media_type: Some("audio/mpeg".into()),
            ..Default::default()
        })
        .await,
        ["song"]
    );
    assert_eq!(
        query(AssetFilter {
            status: Some(AssetStatus::Waiting),
            ..Default::default()
        })
        .await
        .len(),
        4
    );
    assert!(
        query(AssetFilter {
            status: Some(AssetStatus::Ready),
            ..Default::default()
        })
        .await
        .is_empty()
    );
    assert!(
        query(AssetFilter {
            references: References {
                string2: Some("b1".into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .is_empty()
    );
    // a tag filter never reaches into another space
    let other = domain
        .create_space(&acme, "acme", space_named("other"))
        .await
        .unwrap()
        .id;
    domain
        .register_asset(
            &acme,
            "acme",
            other,
            AssetInput {
                tags: Some(vec!["colour".into()]),
                ..image("b1-p1")
            },
        )
        .await
        .unwrap();
    assert_eq!(
        query(AssetFilter {
            tag: Some("colour".into()),
            ..Default::default()
        })
        .await,
        ["b1-p2"]
    );
}

async fn assets_are_ordered_with_missing_values_last(domain: Domain) {
    let (acme, space) = customer_with_space(&domain, "acme").await;
    for (id, number, text) in [
        ("c", Some(2), Some("beta")),
        ("a", None, None),
        ("b", Some(10), Some("Alpha")),
        ("d", Some(2), Some("alpha")),
    ] {
        let input = AssetInput {
            references: References {
                number1: number,
                string1: text.map(String::from),
                ..Default::default()
            },
            ..image(id)
        };
        domain
            .register_asset(&acme, "acme", space, input)
            .await
            .unwrap();
    }
    let ordered = |field, direction| {
        let (domain, acme) = (domain.clone(), acme.clone());
        async move {
            let order = AssetOrder { field, direction };
            ids(&domain
                .assets(
                    &acme,
                    "acme",
                    space,
                    &AssetFilter::default(),
                    order,
                    &PageRequest::default(),
                )
                .await
                .unwrap())
        }
    };
    assert_eq!(
        ordered(AssetOrderField::Id, SortDirection::Asc).await,
        ["a", "b", "c", "d"]
    );
    assert_eq!(
        ordered(AssetOrderField::Id, SortDirection::Desc).await,
        ["d", "c", "b", "a"]
    );
    assert_eq!(
        ordered(AssetOrderField::Number1, SortDirection::Asc).await,
        ["c", "d", "b", "a"]
    );
    assert_eq!(
        ordered(AssetOrderField::Number1, SortDirection::Desc).await,
        ["b", "c", "d", "a"]
    );
    // byte order on both backends: upper case before lower case
    assert_eq!(
        ordered(AssetOrderField::String1, SortDirection::Asc).await,
        ["b", "d", "c", "a"]
    );
    assert_eq!(
        ordered(AssetOrderField::Created, SortDirection::Asc)
            .await
            .len(),
        4
    );
}

async fn assets_are_paged_with_cursors(domain: Domain) {
    let (acme, space) = customer_with_space(&domain, "acme").await;
    for index in 0..7 {
        domain
            .register_asset(&acme, "acme", space, image(&format!("p{index}")))
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = domain
            .assets(
                &acme,
                "acme",
                space,
                &AssetFilter::default(),
                AssetOrder::default(),
                &PageRequest::new(Some(3), after.clone()),
            )
            .await
            .unwrap();
        assert_eq!(page.total_count, 7);
        assert_eq!(page.has_previous_page, after.is_some());
        seen.extend(ids(&page));
        if !page.has_next_page {
            break;
        }
        after = page.items.last().map(|(cursor, _)| cursor.clone());
    }
    assert_eq!(seen, (0..7).map(|i| format!("p{i}")).collect::<Vec<_>>());
    for bad in [
        PageRequest::new(None, Some("garbage".into())),
        PageRequest::new(Some(-1), None),
        PageRequest::new(Some(5000), None),
    ] {
        let result = domain
            .assets(
                &acme,
                "acme",
                space,
                &AssetFilter::default(),
                AssetOrder::default(),
                &bad,
            )
            .await;
        assert_eq!(result.unwrap_err().kind, ErrorKind::BadRequest, "{bad:?}");
    }
}

async fn deleting_an_asset_removes_it_and_its_tags(domain: Domain) {
    let (acme, space) = customer_with_space(&domain, "acme").await;
    domain
        .register_asset(
            &acme,
            "acme",
            space,
            AssetInput {
                tags: Some(vec!["t".into()]),
                ..image("gone")
            },
        )
        .await
        .unwrap();
    let deleted = domain
        .delete_asset(&acme, "acme", space, "gone")
        .await
        .unwrap();
    assert_eq!(deleted.id, "gone");
    assert_eq!(
        domain
            .asset(&acme, "acme", space, "gone")
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
    assert_eq!(
        domain
            .delete_asset(&acme, "acme", space, "gone")
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
    // the id is free again, and the old tags did not survive
    domain
        .register_asset(
            &acme,
            "acme",
            space,
            AssetInput {
                tags: Some(vec![]),
                ..image("gone")
            },
        )
        .await
        .unwrap();
    let tagged = AssetFilter {
        tag: Some("t".into()),
        ..AssetFilter::default()
    };
    let page = domain
        .assets(
            &acme,
            "acme",
            space,
            &tagged,
            AssetOrder::default(),
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(page.total_count, 0);
}

async fn api_keys_authenticate_and_can_be_revoked(domain: Domain) {
    let acme = new_customer(&domain, "acme").await;
    new_customer(&domain, "rival").await;
    let created = domain.create_api_key(&acme, "acme").await.unwrap();
    let credential = ApiKeyCredential {
        key: created.key.clone(),
        secret: created.secret.clone(),
    };
    match domain.authenticate_key(&credential).await.unwrap() {
        Principal::Customer { customer, key, .. } => assert_eq!(
            (customer.as_str(), key.as_str()),
            ("acme", created.key.as_str())
        ),
        other => panic!("expected a customer principal, got {other:?}"),
    }
    let wrong = ApiKeyCredential {
        key: created.key.clone(),
        secret: "wrong".into(),
    };
    assert_eq!(
        domain.authenticate_key(&wrong).await.unwrap_err().kind,
        ErrorKind::Unauthenticated
    );
    let unknown = ApiKeyCredential {
        key: "nope".into(),
        secret: created.secret.clone(),
    };
    assert_eq!(
        domain.authenticate_key(&unknown).await.unwrap_err().kind,
        ErrorKind::Unauthenticated
    );

    let listed = domain.api_keys(&acme, "acme").await.unwrap();
    assert_eq!(
        listed.iter().map(|k| k.key.as_str()).collect::<Vec<_>>(),
        [created.key.as_str()]
    );
    // keys of one customer cannot be deleted through another
    assert_eq!(
        domain
            .delete_api_key(&admin(), "rival", &created.key)
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
    assert!(
        domain
            .delete_api_key(&acme, "acme", &created.key)
            .await
            .unwrap()
    );
    assert_eq!(
        domain.authenticate_key(&credential).await.unwrap_err().kind,
        ErrorKind::Unauthenticated
    );

    assert!(!domain.has_admin_keys().await.unwrap());
    let admin_key = domain.create_admin_key().await.unwrap();
    assert!(domain.has_admin_keys().await.unwrap());
    let admin_credential = ApiKeyCredential {
        key: admin_key.key,
        secret: admin_key.secret,
    };
    assert!(
        domain
            .authenticate_key(&admin_credential)
            .await
            .unwrap()
            .is_admin()
    );
}

async fn login_tokens_follow_their_key(domain: Domain) {
    let acme = new_customer(&domain, "acme").await;
    let created = domain.create_api_key(&acme, "acme").await.unwrap();
    let credential = ApiKeyCredential {
        key: created.key.clone(),
        secret: created.secret.clone(),
    };
    let token = domain.login(&credential).await.unwrap();
    let principal = domain.authenticate_token(&token).await.unwrap();
    assert!(matches!(principal, Principal::Customer { ref customer, .. } if customer == "acme"));
    assert_eq!(
        domain
            .authenticate_token("not.a.token")
            .await
            .unwrap_err()
            .kind,
        ErrorKind::Unauthenticated
    );
    let bad = ApiKeyCredential {
        key: created.key.clone(),
        secret: "bad".into(),
    };
    assert_eq!(
        domain.login(&bad).await.unwrap_err().kind,
        ErrorKind::Unauthenticated
    );
    domain
        .delete_api_key(&acme, "acme", &created.key)
        .await
        .unwrap();
    assert_eq!(
        domain.authenticate_token(&token).await.unwrap_err().kind,
        ErrorKind::Unauthenticated
    );
}

#[tokio::test]
async fn postgres_suite_is_not_skipped_in_ci() {
    // with_database panics in CI when PostgreSQL is not configured; this makes that explicit
    with_database(Backend::Postgres, |domain| async move {
        domain.ping().await.unwrap()
    })
    .await;
}

fn facts(width: i32) -> domain::AssetFacts {
    domain::AssetFacts {
        width: Some(width),
        height: Some(width),
        bytes_stored: 10,
        ..domain::AssetFacts::default()
    }
}

/// Moves a job's clock: its heartbeat and due time `seconds` into the past.
async fn age_jobs(domain: &Domain, seconds: i64) {
    use domain::entities::job;
    use sea_orm::{EntityTrait, sea_query::Expr};
    let past = chrono::Utc::now() - chrono::Duration::seconds(seconds);
    job::Entity::update_many()
        .col_expr(job::Column::HeartbeatAt, Expr::value(Some(past)))
        .col_expr(job::Column::RunAfter, Expr::value(past))
        .exec(domain.db())
        .await
        .unwrap();
}

async fn each_job_is_claimed_by_one_worker(domain: Domain) {
    let (acme, space) = customer_with_space(&domain, "acme").await;
    for n in 0..6 {
        domain
            .register_asset(&acme, "acme", space, image(&format!("a{n}")))
            .await
            .unwrap();
    }
    assert_eq!(domain.jobs_outstanding().await.unwrap(), 6);
    let claimers = (0..4).map(|worker| {
        let domain = domain.clone();
        tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(job) = domain.claim_job(&format!("w{worker}")).await.unwrap() {
                assert_eq!(job.asset.status, AssetStatus::Ingesting);
                mine.push(job.asset.id.clone());
            }
            mine
        })
    });
    let mut claimed: Vec<String> = Vec::new();
    for claimer in claimers {
        claimed.extend(claimer.await.unwrap());
    }
    claimed.sort();
    assert_eq!(claimed, (0..6).map(|n| format!("a{n}")).collect::<Vec<_>>());
}

async fn transient_failures_are_retried_until_attempts_run_out(domain: Domain) {
    let (acme, space) = customer_with_space(&domain, "acme").await;
    domain
        .register_asset(&acme, "acme", space, image("a"))
        .await
        .unwrap();
    let failed = |transient| domain::JobOutcome::Failed {
        reason: "origin-unavailable: origin answered 503".into(),
        transient,
    };
    let max = domain.queue_settings().max_attempts;
    for attempt in 1..max {
        let job = domain.claim_job("w").await.unwrap().expect("due job");
        assert_eq!(job.attempt, attempt);
        let end = domain.finish_job(&job, failed(true)).await.unwrap();
        let domain::JobEnd::Retrying(asset, wait) = end else {
            panic!("attempt {attempt} should be retried: {end:?}")
        };
        assert_eq!(asset.status, AssetStatus::Waiting);
        assert!(asset.error.unwrap().contains("retrying"));
        assert_eq!(wait, domain.queue_settings().backoff(attempt));
        assert!(
            domain.claim_job("w").await.unwrap().is_none(),
            "not due yet"
        );
        age_jobs(&domain, 3600).await;
    }
    let job = domain.claim_job("w").await.unwrap().expect("last attempt");
    let end = domain.finish_job(&job, failed(true)).await.unwrap();
    let domain::JobEnd::Finished(asset) = end else {
        panic!("the last attempt ends the job: {end:?}")
    };
    assert_eq!(asset.status, AssetStatus::Error);
    assert_eq!(domain.jobs_outstanding().await.unwrap(), 0);

    // a permanent failure ends at once
    domain
        .register_asset(&acme, "acme", space, image("b"))
        .await
        .unwrap();
    let job = domain.claim_job("w").await.unwrap().unwrap();
    let end = domain.finish_job(&job, failed(false)).await.unwrap();
    assert!(matches!(end, domain::JobEnd::Finished(ref a) if a.status == AssetStatus::Error));
}

async fn jobs_of_silent_workers_are_reclaimed(domain: Domain) {
    let (acme, space) = customer_with_space(&domain, "acme").await;
    domain
        .register_asset(&acme, "acme", space, image("a"))
        .await
        .unwrap();
    let first = domain.claim_job("dead").await.unwrap().unwrap();
    assert_eq!(
        domain.reclaim_stale_jobs().await.unwrap(),
        0,
        "its heartbeat is fresh"
    );
    age_jobs(&domain, 3600).await;
    assert_eq!(domain.reclaim_stale_jobs().await.unwrap(), 1);
    assert!(
        !domain.heartbeat(&first).await.unwrap(),
        "the job is no longer the dead worker's"
    );
    let second = domain.claim_job("alive").await.unwrap().unwrap();
    assert_eq!(
        second.attempt, 1,
        "a death may be the node's, not the master's: the attempt does not count"
    );
    assert!(!first.after_crash);
    assert!(
        second.after_crash,
        "the job runs where a second death is contained"
    );
    let held = domain.held_job("alive", second.id).await.unwrap().unwrap();
    assert_eq!((held.id, held.attempt), (second.id, 1));
    assert!(held.after_crash);
    assert_eq!(held.asset.id, "a");
    assert!(domain.held_job("dead", second.id).await.unwrap().is_none());
    assert!(
        domain
            .held_job("alive", second.id + 99)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        domain
            .finish_job(&first, domain::JobOutcome::Done(facts(5)))
            .await
            .unwrap(),
        domain::JobEnd::Lost,
        "a late outcome of the dead worker is not recorded"
    );
    let end = domain
        .finish_job(&second, domain::JobOutcome::Done(facts(7)))
        .await
        .unwrap();
    let domain::JobEnd::Finished(asset) = end else {
        panic!("{end:?}")
    };
    assert_eq!((asset.status, asset.width), (AssetStatus::Ready, Some(7)));

    // a released job keeps its attempt count
    domain
        .reingest_asset(&acme, "acme", space, "a")
        .await
        .unwrap();
    let job = domain.claim_job("stopping").await.unwrap().unwrap();
    domain.release_job(&job).await.unwrap();
    assert_eq!(domain.claim_job("next").await.unwrap().unwrap().attempt, 1);
}

async fn a_job_whose_worker_dies_twice_is_poisoned_not_retried(domain: Domain) {
    let (acme, space) = customer_with_space(&domain, "acme").await;
    domain
        .register_asset(&acme, "acme", space, image("bomb"))
        .await
        .unwrap();
    domain.claim_job("first").await.unwrap().unwrap();
    age_jobs(&domain, 3600).await;
    assert_eq!(domain.reclaim_stale_jobs().await.unwrap(), 1);
    let again = domain.claim_job("second").await.unwrap().unwrap();
    assert!(again.after_crash);
    age_jobs(&domain, 3600).await;
    assert_eq!(domain.reclaim_stale_jobs().await.unwrap(), 1);
    assert_eq!(domain.jobs_outstanding().await.unwrap(), 0, "not retried");
    assert!(domain.claim_job("third").await.unwrap().is_none());
    let asset = domain.asset(&acme, "acme", space, "bomb").await.unwrap();
    assert_eq!(asset.status, AssetStatus::Error);
    let error = asset.error.unwrap();
    assert!(error.starts_with("job-poisoned:"), "{error}");
    assert!(error.contains("2 times"), "{error}");
}

async fn batch_counters_follow_member_states(domain: Domain) {
    let (acme, space) = customer_with_space(&domain, "acme").await;
    let members = ["a", "b", "c", "d"]
        .iter()
        .map(|id| domain::BatchMemberInput {
            space,
            asset: image(id),
            line: None,
        })
        .collect();
    let batch = domain
        .create_batch(&acme, "acme", members)
        .await
        .unwrap()
        .unwrap()
        .remove(0);
    assert_eq!((batch.count, batch.completed, batch.errors), (4, 0, 0));
    let mut ended = 0;
    while let Some(job) = domain.claim_job("w").await.unwrap() {
        let outcome = if job.asset.id == "b" {
            domain::JobOutcome::Failed {
                reason: "unsupported-image: not an image".into(),
                transient: false,
            }
        } else if job.asset.id == "d" {
            // deleted while it waits for its turn: counted as an error once
            domain.release_job(&job).await.unwrap();
            domain
                .delete_asset(&acme, "acme", space, "d")
                .await
                .unwrap();
            continue;
        } else {
            domain::JobOutcome::Done(facts(3))
        };
        domain.finish_job(&job, outcome).await.unwrap();
        ended += 1;
    }
    assert_eq!(ended, 3);
    let batch = domain.batch(&acme, "acme", batch.id).await.unwrap();
    assert_eq!((batch.completed, batch.errors), (2, 2));
    assert!(batch.finished.is_some());
    let states = domain.batch_member_states(batch.id).await.unwrap();
    assert_eq!(states.get("ready"), Some(&2));
    assert_eq!(states.get("error"), Some(&2));
    let errors = domain
        .batch_members(
            &acme,
            "acme",
            batch.id,
            Some(AssetStatus::Error),
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(errors.total_count, 2);
}

/// A batch registering images with these ids in one space of acme.
async fn batch_of(domain: &Domain, acme: &Principal, space: i32, ids: &[&str]) -> domain::Batch {
    let members = ids
        .iter()
        .map(|id| domain::BatchMemberInput {
            space,
            asset: image(id),
            line: None,
        })
        .collect();
    domain
        .create_batch(acme, "acme", members)
        .await
        .unwrap()
        .unwrap()
        .remove(0)
}

/// The job an asset of acme waits on.
async fn job_of(domain: &Domain, acme: &Principal, space: i32, id: &str) -> Option<i64> {
    let asset = domain.asset(acme, "acme", space, id).await.unwrap();
    domain.pending_job(&asset).await.unwrap()
}

/// Claims the job of one asset of acme.
async fn claim_asset(
    domain: &Domain,
    acme: &Principal,
    space: i32,
    id: &str,
) -> domain::ClaimedJob {
    let job = job_of(domain, acme, space, id).await.expect("a job");
    domain
        .claim_job_by_id("suite", job)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("the job of {id} is due"))
}

/// Claims one asset's job and records `outcome` for it.
async fn end_asset(
    domain: &Domain,
    acme: &Principal,
    space: i32,
    id: &str,
    outcome: domain::JobOutcome,
) {
    let job = claim_asset(domain, acme, space, id).await;
    domain.finish_job(&job, outcome).await.unwrap();
}

fn origin_failure(transient: bool) -> domain::JobOutcome {
    domain::JobOutcome::Failed {
        reason: "origin-refused: origin answered 404".into(),
        transient,
    }
}

/// Each member of a batch as (asset id, status, error), in submission order.
async fn members_of(
    domain: &Domain,
    acme: &Principal,
    batch: i64,
) -> Vec<(String, AssetStatus, Option<String>)> {
    let page = domain
        .batch_members(acme, "acme", batch, None, &PageRequest::default())
        .await
        .unwrap();
    page.items
        .into_iter()
        .map(|(_, member)| (member.asset_id, member.status, member.error))
        .collect()
}

fn member(
    id: &str,
    status: AssetStatus,
    error: Option<&str>,
) -> (String, AssetStatus, Option<String>) {
    (id.to_owned(), status, error.map(str::to_owned))
}

/// The counters equal the members' states, and the batch is finished exactly when every
/// member ended.
async fn assert_counters_match_members(domain: &Domain, batch: &domain::Batch) {
    let states = domain.batch_member_states(batch.id).await.unwrap();
    let in_state = |state: &str| states.get(state).copied().unwrap_or(0);
    assert_eq!(
        in_state("ready"),
        batch.completed as u64,
        "{batch:?} {states:?}"
    );
    assert_eq!(
        in_state("error"),
        batch.errors as u64,
        "{batch:?} {states:?}"
    );
    assert_eq!(
        batch.finished.is_some(),
        batch.completed + batch.errors == batch.count,
        "{batch:?}"
    );
}

async fn retrying_a_batch_requeues_only_its_failed_members(domain: Domain) {
    use domain::JobOutcome::Done;
    let (acme, space) = customer_with_space(&domain, "acme").await;
    let created = batch_of(&domain, &acme, space, &["a", "b", "c", "d", "e"]).await;
    // a READY, b and c ERROR, d being processed, e still waiting
    end_asset(&domain, &acme, space, "a", Done(facts(3))).await;
    for id in ["b", "c"] {
        end_asset(&domain, &acme, space, id, origin_failure(false)).await;
    }
    let running = claim_asset(&domain, &acme, space, "d").await;
    let waiting_job = job_of(&domain, &acme, space, "e").await;
    let before = domain.batch(&acme, "acme", created.id).await.unwrap();
    assert_eq!((before.completed, before.errors), (1, 2));

    let retried = domain
        .retry_failed_batch(&acme, "acme", created.id)
        .await
        .unwrap();
    assert_eq!(
        (retried.count, retried.completed, retried.errors),
        (5, 1, 0)
    );
    assert!(retried.finished.is_none());
    assert_counters_match_members(&domain, &retried).await;
    assert_eq!(
        members_of(&domain, &acme, created.id).await,
        vec![
            member("a", AssetStatus::Ready, None),
            member("b", AssetStatus::Waiting, None),
            member("c", AssetStatus::Waiting, None),
            member("d", AssetStatus::Ingesting, None),
            member("e", AssetStatus::Waiting, None),
        ]
    );
    for id in ["b", "c"] {
        let asset = domain.asset(&acme, "acme", space, id).await.unwrap();
        assert_eq!(asset.status, AssetStatus::Waiting, "{id}");
        assert_eq!((asset.error, asset.finished), (None, None), "{id}");
    }
    assert_eq!(domain.jobs_outstanding().await.unwrap(), 4, "b, c, d and e");
    assert!(
        domain.heartbeat(&running).await.unwrap(),
        "the member being processed keeps its worker"
    );
    assert_eq!(
        job_of(&domain, &acme, space, "e").await,
        waiting_job,
        "the waiting member keeps its job"
    );
    assert_eq!(
        domain
            .retry_failed_batch(&acme, "acme", created.id)
            .await
            .unwrap(),
        retried,
        "nothing has failed since: a second retry changes nothing"
    );

    // the new jobs start their attempts afresh and count on the batch
    let b = claim_asset(&domain, &acme, space, "b").await;
    assert_eq!(b.attempt, 1);
    domain.finish_job(&b, Done(facts(3))).await.unwrap();
    let c = claim_asset(&domain, &acme, space, "c").await;
    assert_eq!(c.attempt, 1);
    domain.finish_job(&c, origin_failure(false)).await.unwrap();
    domain.finish_job(&running, Done(facts(3))).await.unwrap();
    end_asset(&domain, &acme, space, "e", Done(facts(3))).await;
    let ended = domain.batch(&acme, "acme", created.id).await.unwrap();
    assert_eq!((ended.completed, ended.errors), (4, 1));
    assert_counters_match_members(&domain, &ended).await;

    // a finished batch is reopened until its retried member ends
    let reopened = domain
        .retry_failed_batch(&acme, "acme", created.id)
        .await
        .unwrap();
    assert_eq!((reopened.completed, reopened.errors), (4, 0));
    assert!(reopened.finished.is_none());
    process_all(&domain).await;
    let done = domain.batch(&acme, "acme", created.id).await.unwrap();
    assert_eq!((done.completed, done.errors), (5, 0));
    assert_counters_match_members(&domain, &done).await;
}

async fn retrying_skips_members_deleted_or_taken_over_by_a_later_batch(domain: Domain) {
    let (acme, space) = customer_with_space(&domain, "acme").await;
    let first = batch_of(&domain, &acme, space, &["x", "y", "z"]).await;
    domain
        .delete_asset(&acme, "acme", space, "z")
        .await
        .unwrap();
    for id in ["x", "y"] {
        end_asset(&domain, &acme, space, id, origin_failure(false)).await;
    }
    // a later batch takes y over, and it fails there too
    let later = batch_of(&domain, &acme, space, &["y"]).await;
    end_asset(&domain, &acme, space, "y", origin_failure(false)).await;
    let later = domain.batch(&acme, "acme", later.id).await.unwrap();
    assert_eq!(
        domain.batch(&acme, "acme", first.id).await.unwrap().errors,
        3
    );

    let retried = domain
        .retry_failed_batch(&acme, "acme", first.id)
        .await
        .unwrap();
    assert_eq!((retried.completed, retried.errors), (0, 2), "x only");
    assert_counters_match_members(&domain, &retried).await;
    let states: Vec<_> = members_of(&domain, &acme, first.id)
        .await
        .into_iter()
        .map(|(id, status, _)| (id, status))
        .collect();
    assert_eq!(
        states,
        vec![
            ("x".to_owned(), AssetStatus::Waiting),
            ("y".to_owned(), AssetStatus::Error),
            ("z".to_owned(), AssetStatus::Error),
        ]
    );
    assert_eq!(domain.jobs_outstanding().await.unwrap(), 1);
    let y = domain.asset(&acme, "acme", space, "y").await.unwrap();
    assert_eq!((y.status, y.batch), (AssetStatus::Error, Some(later.id)));
    assert_eq!(
        domain.batch(&acme, "acme", later.id).await.unwrap(),
        later,
        "the later batch is untouched"
    );
}

async fn cancelling_a_batch_stops_only_its_waiting_members(domain: Domain) {
    use domain::JobOutcome::Done;
    let (acme, space) = customer_with_space(&domain, "acme").await;
    let created = batch_of(&domain, &acme, space, &["a", "b", "c", "d"]).await;
    domain
        .register_asset(&acme, "acme", space, image("solo"))
        .await
        .unwrap();
    // a READY, b being processed, c queued, d queued again after a transient failure
    end_asset(&domain, &acme, space, "a", Done(facts(3))).await;
    let running = claim_asset(&domain, &acme, space, "b").await;
    let flapping = claim_asset(&domain, &acme, space, "d").await;
    let retrying = domain
        .finish_job(&flapping, origin_failure(true))
        .await
        .unwrap();
    assert!(
        matches!(retrying, domain::JobEnd::Retrying(..)),
        "{retrying:?}"
    );

    let cancelled = domain
        .cancel_batch(&acme, "acme", created.id)
        .await
        .unwrap();
    assert_eq!((cancelled.completed, cancelled.errors), (1, 2));
    assert!(cancelled.finished.is_none(), "b is still being processed");
    assert_counters_match_members(&domain, &cancelled).await;
    let reason = Some(domain::CANCELLED_REASON);
    assert_eq!(
        members_of(&domain, &acme, created.id).await,
        vec![
            member("a", AssetStatus::Ready, None),
            member("b", AssetStatus::Ingesting, None),
            member("c", AssetStatus::Error, reason),
            member("d", AssetStatus::Error, reason),
        ]
    );
    for id in ["c", "d"] {
        let asset = domain.asset(&acme, "acme", space, id).await.unwrap();
        assert_eq!(asset.status, AssetStatus::Error, "{id}");
        assert_eq!(asset.error.as_deref(), reason, "{id}");
        assert!(asset.finished.is_some(), "{id}");
        assert_eq!(job_of(&domain, &acme, space, id).await, None, "{id}");
    }
    assert!(
        job_of(&domain, &acme, space, "solo").await.is_some(),
        "not the batch's"
    );
    assert_eq!(domain.jobs_outstanding().await.unwrap(), 2, "b and solo");
    assert!(domain.heartbeat(&running).await.unwrap());

    // the member being processed finishes, and the batch with it
    domain.finish_job(&running, Done(facts(3))).await.unwrap();
    let ended = domain.batch(&acme, "acme", created.id).await.unwrap();
    assert_eq!((ended.completed, ended.errors), (2, 2));
    assert_counters_match_members(&domain, &ended).await;
    assert_eq!(
        domain
            .cancel_batch(&acme, "acme", created.id)
            .await
            .unwrap(),
        ended,
        "cancelling a finished batch changes nothing"
    );

    // cancelled members can be queued again
    let retried = domain
        .retry_failed_batch(&acme, "acme", created.id)
        .await
        .unwrap();
    assert_eq!((retried.completed, retried.errors), (2, 0));
    process_all(&domain).await;
    let done = domain.batch(&acme, "acme", created.id).await.unwrap();
    assert_eq!((done.completed, done.errors), (4, 0));
    assert_counters_match_members(&domain, &done).await;
}

async fn batch_retry_and_cancel_are_tenancy_checked(domain: Domain) {
    let (acme, space) = customer_with_space(&domain, "acme").await;
    let other = new_customer(&domain, "other").await;
    let created = batch_of(&domain, &acme, space, &["a", "b"]).await;
    end_asset(&domain, &acme, space, "a", origin_failure(false)).await;
    let before = domain.batch(&acme, "acme", created.id).await.unwrap();
    let refusals = [
        (&other, "acme", created.id, ErrorKind::Forbidden),
        (&other, "other", created.id, ErrorKind::NotFound),
        (&acme, "acme", created.id + 1000, ErrorKind::NotFound),
        (
            &Principal::Anonymous,
            "acme",
            created.id,
            ErrorKind::Unauthenticated,
        ),
    ];
    for (principal, customer, id, kind) in refusals {
        let retry = domain.retry_failed_batch(principal, customer, id).await;
        assert_eq!(retry.unwrap_err().kind, kind, "retry {customer} {id}");
        let cancel = domain.cancel_batch(principal, customer, id).await;
        assert_eq!(cancel.unwrap_err().kind, kind, "cancel {customer} {id}");
    }
    assert_eq!(
        domain.batch(&acme, "acme", created.id).await.unwrap(),
        before,
        "nothing changed"
    );
    assert_eq!(domain.jobs_outstanding().await.unwrap(), 1, "b still waits");

    // the admin acts on any customer's batch
    let cancelled = domain
        .cancel_batch(&admin(), "acme", created.id)
        .await
        .unwrap();
    assert_eq!((cancelled.errors, cancelled.finished.is_some()), (2, true));
    let retried = domain
        .retry_failed_batch(&admin(), "acme", created.id)
        .await
        .unwrap();
    assert_eq!((retried.errors, retried.finished), (0, None));
    assert_eq!(domain.jobs_outstanding().await.unwrap(), 2);
}

/// Claims and finishes every outstanding job, making its asset READY.
async fn process_all(domain: &Domain) {
    while let Some(job) = domain.claim_job("suite").await.unwrap() {
        domain
            .finish_job(&job, domain::JobOutcome::Done(facts(100)))
            .await
            .unwrap();
    }
}

async fn named_queries_select_ready_assets_in_canvas_order(domain: Domain) {
    use domain::{Links, NamedQueryInput, NamedQueryPatch};
    let (acme, space) = customer_with_space(&domain, "acme").await;
    let other_space = domain
        .create_space(&acme, "acme", space_named("second"))
        .await
        .unwrap()
        .id;
    for (id, in_space, book, page, part, tags) in [
        ("p3", space, "b1", 3, 1, vec!["scan"]),
        ("p1", space, "b1", 1, 2, vec!["scan"]),
        ("p2", space, "b1", 2, 1, vec![]),
        ("x1", space, "b2", 1, 1, vec!["scan"]),
        ("q1", other_space, "b1", 9, 1, vec!["scan"]),
    ] {
        let input = AssetInput {
            references: References {
                string1: Some(book.into()),
                number1: Some(page),
                number2: Some(part),
                ..Default::default()
            },
            tags: Some(tags.into_iter().map(String::from).collect()),
            ..image(id)
        };
        domain
            .register_asset(&acme, "acme", in_space, input)
            .await
            .unwrap();
    }
    process_all(&domain).await;
    // one more that is still waiting: never listed
    let waiting = AssetInput {
        references: References {
            string1: Some("b1".into()),
            number1: Some(0),
            ..Default::default()
        },
        ..image("p0")
    };
    domain
        .register_asset(&acme, "acme", space, waiting)
        .await
        .unwrap();

    let create = |name: &str, template: &str| {
        let (domain, acme) = (domain.clone(), acme.clone());
        let input = NamedQueryInput {
            name: name.into(),
            template: template.into(),
        };
        async move { domain.create_named_query(&acme, "acme", input).await }
    };
    let preview = |name: &'static str, parameters: Vec<String>| {
        let (domain, acme) = (domain.clone(), acme.clone());
        async move {
            domain
                .preview_named_query(&acme, "acme", name, &parameters, 100)
                .await
                .map(|assets| assets.into_iter().map(|asset| asset.id).collect::<Vec<_>>())
        }
    };
    let book = create("book", "space=p1&s1=p2&canvas=n1").await.unwrap();
    assert_eq!(book.parameters, 2);
    assert_eq!(
        preview("book", vec![space.to_string(), "b1".into()])
            .await
            .unwrap(),
        ["p1", "p2", "p3"]
    );
    assert_eq!(
        preview("book", vec!["main".into(), "b1".into()])
            .await
            .unwrap(),
        ["p1", "p2", "p3"],
        "a space by name"
    );
    create("parts", "s1=p1&canvas=n2 desc;n1").await.unwrap();
    assert_eq!(
        preview("parts", vec!["b1".into()]).await.unwrap(),
        ["p1", "p2", "p3", "q1"],
        "across spaces, n2 descending then n1"
    );
    create("scans", "tag=scan&canvas=space;id").await.unwrap();
    assert_eq!(
        preview("scans", vec![]).await.unwrap(),
        ["p1", "p3", "x1", "q1"]
    );
    assert_eq!(
        preview("book", vec![space.to_string()])
            .await
            .unwrap_err()
            .kind,
        ErrorKind::BadRequest
    );
    assert_eq!(
        preview("nothing", vec![]).await.unwrap_err().kind,
        ErrorKind::NotFound
    );
    assert_eq!(
        create("book", "s1=p1").await.unwrap_err().kind,
        ErrorKind::Conflict
    );
    assert_eq!(
        create("bad", "s1=p2").await.unwrap_err().kind,
        ErrorKind::InvalidInput
    );

    // the public manifest holds the same canvases
    let links = Links::new("https://iiif.example.org", iiif::presentation::Version::V3);
    let manifest = domain
        .named_query_manifest("acme", "book", &[space.to_string(), "b1".into()], &links)
        .await
        .unwrap();
    assert_eq!(manifest.canvases.len(), 3);
    assert_eq!(
        manifest.canvases[0].id,
        format!("https://iiif.example.org/iiif/manifest/3/acme/{space}/p1/canvas")
    );

    // tenancy: another customer can neither see nor change acme's queries
    let other = new_customer(&domain, "other").await;
    assert_eq!(
        domain.named_queries(&other, "acme").await.unwrap_err().kind,
        ErrorKind::Forbidden
    );
    assert_eq!(
        domain
            .delete_named_query(&other, "acme", "book")
            .await
            .unwrap_err()
            .kind,
        ErrorKind::Forbidden
    );
    let renamed = domain
        .update_named_query(
            &acme,
            "acme",
            "book",
            NamedQueryPatch {
                name: Some("volume".into()),
                template: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "volume");
    assert_eq!(
        domain
            .update_named_query(
                &acme,
                "acme",
                "volume",
                NamedQueryPatch {
                    name: Some("parts".into()),
                    template: None,
                },
            )
            .await
            .unwrap_err()
            .kind,
        ErrorKind::Conflict
    );
    let names: Vec<String> = domain
        .named_queries(&acme, "acme")
        .await
        .unwrap()
        .into_iter()
        .map(|query| query.name)
        .collect();
    assert_eq!(names, ["parts", "scans", "volume"]);
    assert!(
        domain
            .delete_named_query(&acme, "acme", "volume")
            .await
            .unwrap()
    );
    assert_eq!(
        domain
            .delete_named_query(&acme, "acme", "volume")
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
}

async fn presentation_settings_are_checked_and_merged(domain: Domain) {
    use domain::{CustomerPatch, PresentationPatch, Statement};
    let (acme, space) = customer_with_space(&domain, "acme").await;
    let customer = domain
        .update_customer(
            &acme,
            "acme",
            CustomerPatch {
                display_name: Some("Acme Museum".into()),
                presentation: PresentationPatch {
                    rights: Some(Some("https://creativecommons.org/licenses/by/4.0/".into())),
                    required_statement: Some(Some(Statement {
                        label: "Attribution".into(),
                        value: "Acme Museum".into(),
                    })),
                    ..PresentationPatch::default()
                },
            },
        )
        .await
        .unwrap();
    assert_eq!(customer.display_name, "Acme Museum");
    assert_eq!(
        customer.presentation.rights.as_deref(),
        Some("http://creativecommons.org/licenses/by/4.0/")
    );
    // a refused patch writes nothing, not even its valid parts
    let refused = domain
        .update_customer(
            &acme,
            "acme",
            CustomerPatch {
                display_name: Some("Renamed".into()),
                presentation: PresentationPatch {
                    viewing_direction: Some(Some("sideways".into())),
                    ..PresentationPatch::default()
                },
            },
        )
        .await;
    assert_eq!(refused.unwrap_err().kind, ErrorKind::InvalidInput);
    assert_eq!(
        domain.customer(&acme, "acme").await.unwrap().display_name,
        "Acme Museum"
    );
    let other = new_customer(&domain, "other").await;
    assert_eq!(
        domain
            .update_customer(&other, "acme", CustomerPatch::default())
            .await
            .unwrap_err()
            .kind,
        ErrorKind::Forbidden
    );

    let patched = domain
        .update_space(
            &acme,
            "acme",
            space,
            SpacePatch {
                presentation: PresentationPatch {
                    rights: Some(Some("http://rightsstatements.org/vocab/NoC-US/1.0/".into())),
                    behavior: Some(Some(vec!["paged".into()])),
                    ..PresentationPatch::default()
                },
                ..SpacePatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        patched.presentation.behavior,
        Some(vec!["paged".to_owned()])
    );
    domain
        .register_asset(&acme, "acme", space, image("a"))
        .await
        .unwrap();
    process_all(&domain).await;
    let links = domain::Links::new("https://x.example", iiif::presentation::Version::V3);
    let manifest = domain
        .asset_manifest("acme", space, "a", &links)
        .await
        .unwrap();
    assert_eq!(
        manifest.rights.as_deref(),
        Some("http://rightsstatements.org/vocab/NoC-US/1.0/"),
        "the space's rights win"
    );
    assert_eq!(
        manifest.required_statement.unwrap().value.first(),
        "Acme Museum",
        "the customer's statement fills in"
    );
    // clearing the space's rights falls back to the customer's
    domain
        .update_space(
            &acme,
            "acme",
            space,
            SpacePatch {
                presentation: PresentationPatch {
                    rights: Some(None),
                    ..PresentationPatch::default()
                },
                ..SpacePatch::default()
            },
        )
        .await
        .unwrap();
    let manifest = domain
        .asset_manifest("acme", space, "a", &links)
        .await
        .unwrap();
    assert_eq!(
        manifest.rights.as_deref(),
        Some("http://creativecommons.org/licenses/by/4.0/")
    );
}

/// Two nodes' indexes over one database agree after every kind of annotation change made
/// through either; an index on disk keeps its place in the change log and catches up when it
/// is opened again; a rebuild gives the same results.
async fn search_indexes_follow_the_annotation_log(domain: Domain) {
    use domain::{AnnotationInput, AnnotationPatch, Links, SearchRequest, SearchScope, Searcher};
    use iiif::presentation::Version;
    use search::SearchIndex;
    use std::sync::Arc;

    let (acme, space) = customer_with_space(&domain, "acme").await;
    for id in ["page", "other"] {
        domain
            .register_asset(&acme, "acme", space, image(id))
            .await
            .unwrap();
    }
    process_all(&domain).await;
    let folder = tempfile::tempdir().unwrap();
    let node_a = Searcher::new(domain.clone(), Arc::new(SearchIndex::in_memory().unwrap()));
    let mut node_b = Searcher::new(
        domain.clone(),
        Arc::new(SearchIndex::open(folder.path()).unwrap()),
    );
    let links = Links::new("https://vitrine.example", Version::V3);
    let scope = SearchScope::Asset {
        space,
        id: "page".into(),
    };
    let search_with = |searcher: Searcher, q: &str, filters: search::Filters| {
        let (scope, links) = (scope.clone(), links.clone());
        let request = SearchRequest {
            roles: Vec::new(),
            q: q.into(),
            page: 1,
            filters,
        };
        async move {
            searcher
                .search(
                    "acme",
                    &scope,
                    &request,
                    &links,
                    "https://vitrine.example/s",
                )
                .await
                .unwrap()
        }
    };
    let search = |searcher: Searcher, q: &str| search_with(searcher, q, search::Filters::default());
    let found = |outcome: &domain::SearchOutcome| -> Vec<String> {
        outcome
            .items
            .iter()
            .map(|item| item.value.clone())
            .collect()
    };

    let created = domain
        .create_annotation(
            &acme,
            "acme",
            space,
            "page",
            AnnotationInput {
                value: "two birds".into(),
                region: Some(domain::Region {
                    x: 1,
                    y: 2,
                    w: 30,
                    h: 10,
                }),
                ..AnnotationInput::default()
            },
        )
        .await
        .unwrap();
    let a = search(node_a.clone(), "birds").await;
    let b = search(node_b.clone(), "birds").await;
    assert_eq!(found(&a), ["two birds"]);
    assert_eq!(a, b);
    assert_eq!(node_a.sequence(), node_b.sequence());

    // every field the index keeps comes back from the database as written: the creator and
    // the creation time (filters), HTML reduced to its text, the language, the box
    let gannet = domain
        .create_annotation(
            &acme,
            "acme",
            space,
            "page",
            AnnotationInput {
                value: "<p>a <b>gannet</b> dives</p>".into(),
                format: Some("text/html".into()),
                language: Some("fr".into()),
                creator: Some("ann".into()),
                region: Some(domain::Region {
                    x: 4,
                    y: 5,
                    w: 6,
                    h: 7,
                }),
                ..AnnotationInput::default()
            },
        )
        .await
        .unwrap();
    // the boxes of the annotations a filtered search finds
    let filtered = |searcher: Searcher, q: &'static str, filters: search::Filters| {
        let outcome = search_with(searcher, q, filters);
        async move {
            outcome
                .await
                .items
                .iter()
                .map(|item| {
                    item.target
                        .rsplit('#')
                        .next()
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect::<Vec<_>>()
        }
    };
    let created_at = gannet.created.timestamp();
    let by = |users: &[&str], dates: Vec<(i64, i64)>| search::Filters {
        users: users.iter().map(|user| user.to_string()).collect(),
        dates,
        ..search::Filters::default()
    };
    for node in [&node_a, &node_b] {
        let around = vec![(created_at - 1, created_at + 1)];
        assert_eq!(
            filtered(node.clone(), "gannet", by(&["ann"], around)).await,
            ["xywh=4,5,6,7"]
        );
        assert!(
            filtered(node.clone(), "gannet", by(&["bob"], Vec::new()))
                .await
                .is_empty()
        );
        let before = vec![(0, created_at - 1)];
        assert!(
            filtered(node.clone(), "gannet", by(&[], before))
                .await
                .is_empty()
        );
        assert!(
            filtered(node.clone(), "b", by(&[], Vec::new()))
                .await
                .is_empty()
        );
    }
    domain
        .delete_annotation(&acme, "acme", gannet.id)
        .await
        .unwrap();

    domain
        .update_annotation(
            &acme,
            "acme",
            created.id,
            AnnotationPatch {
                value: Some("three gulls".into()),
                ..AnnotationPatch::default()
            },
        )
        .await
        .unwrap();
    assert!(found(&search(node_b.clone(), "birds").await).is_empty());
    let a = search(node_a.clone(), "gulls").await;
    assert_eq!(found(&a), ["three gulls"]);
    assert_eq!(a, search(node_b.clone(), "gulls").await);

    // node B goes away; changes go on; B opens its folder again and catches up
    let before = node_b.sequence();
    drop(node_b);
    let alto = r#"<alto><Layout><Page WIDTH="200" HEIGHT="200"><TextLine>
        <String CONTENT="Gulls" HPOS="10" VPOS="10" WIDTH="40" HEIGHT="20"/>
        <String CONTENT="nest" HPOS="60" VPOS="10" WIDTH="40" HEIGHT="20"/>
        </TextLine></Page></Layout></alto>"#;
    let count = domain
        .import_annotations(
            &acme,
            "acme",
            space,
            "page",
            domain::ImportFormat::Alto,
            alto.into(),
            domain::Granularity::Word,
            None,
        )
        .await
        .unwrap();
    assert_eq!(count, 2);
    domain
        .delete_annotation(&acme, "acme", created.id)
        .await
        .unwrap();
    node_b = Searcher::new(
        domain.clone(),
        Arc::new(SearchIndex::open(folder.path()).unwrap()),
    );
    assert_eq!(node_b.sequence(), before, "the index kept its place");
    let behind = node_b.catching_up().await.unwrap().expect("B is behind");
    assert_eq!(behind.at, before);
    assert!(behind.latest >= before + 2, "{behind:?}");
    assert!(node_b.catch_up().await.unwrap() >= 2);
    assert_eq!(node_b.catching_up().await.unwrap(), None, "caught up");
    let a = search(node_a.clone(), "gulls").await;
    assert_eq!(found(&a), ["Gulls"]);
    assert_eq!(a.items[0].target.rsplit('#').next(), Some("xywh=5,5,20,10"));
    assert_eq!(a, search(node_b.clone(), "gulls").await);

    // a rebuild from the database gives the same answers
    let rebuilt = Searcher::new(domain.clone(), Arc::new(SearchIndex::in_memory().unwrap()));
    assert!(
        rebuilt.catching_up().await.unwrap().is_some(),
        "a new index is behind"
    );
    assert_eq!(rebuilt.rebuild().await.unwrap(), 1);
    assert_eq!(rebuilt.sequence(), node_b.sequence());
    assert_eq!(search(rebuilt.clone(), "gulls").await, a);

    // hits are named uniquely across pages, also when one annotation holds many of them
    let mut annotations = vec![serde_json::json!({ "body": { "value": "tern ".repeat(150) } })];
    annotations.extend((0..100).map(|_| serde_json::json!({ "body": { "value": "tern" } })));
    domain
        .import_annotations(
            &acme,
            "acme",
            space,
            "other",
            domain::ImportFormat::W3c,
            serde_json::to_string(&annotations).unwrap(),
            domain::Granularity::Word,
            None,
        )
        .await
        .unwrap();
    let mut hit_ids = std::collections::HashSet::new();
    let mut hit_count = 0;
    for page in [1, 2] {
        let request = SearchRequest {
            roles: Vec::new(),
            q: "tern".into(),
            page,
            ..SearchRequest::default()
        };
        let outcome = node_a
            .search(
                "acme",
                &SearchScope::Asset {
                    space,
                    id: "other".into(),
                },
                &request,
                &links,
                "https://vitrine.example/s",
            )
            .await
            .unwrap();
        assert_eq!(outcome.total, 101);
        hit_count += outcome.hits.len();
        hit_ids.extend(outcome.hits.into_iter().map(|hit| hit.id));
    }
    assert_eq!(hit_count, 250);
    assert_eq!(hit_ids.len(), 250, "hit ids repeat across pages");

    // deleting the asset takes its text out of every index
    domain
        .delete_asset(&acme, "acme", space, "page")
        .await
        .unwrap();
    for node in [&node_a, &node_b] {
        node.catch_up().await.unwrap();
    }
    assert_eq!(node_a.sequence(), node_b.sequence());
    // only "other" is left with annotations
    let again = Searcher::new(domain.clone(), Arc::new(SearchIndex::in_memory().unwrap()));
    assert_eq!(again.rebuild().await.unwrap(), 1);
}

async fn visitor_sessions_grant_merge_and_end(domain: Domain) {
    use domain::{
        AccessProfile, ActiveKind, AuthServiceInput, RoleInput, SessionLookup, ViewerInput,
    };
    let (acme, _) = customer_with_space(&domain, "acme").await;
    let rival = new_customer(&domain, "rival").await;
    let service = |name: &str, kind: ActiveKind| AuthServiceInput {
        name: name.into(),
        profile: AccessProfile::Active,
        kind: Some(kind),
        label: "Library".into(),
        heading: None,
        note: None,
        confirm_label: None,
        ip_ranges: Vec::new(),
        trusted_cookie: None,
        trusted_header: None,
        session_ttl: Some(120),
    };
    let terms = domain
        .create_auth_service(&acme, "acme", service("terms", ActiveKind::Clickthrough))
        .await
        .unwrap();
    domain
        .create_auth_service(&acme, "acme", service("staff", ActiveKind::Login))
        .await
        .unwrap();
    // another customer's key cannot touch acme's services
    let refused = domain
        .create_auth_service(&rival, "acme", service("x", ActiveKind::Login))
        .await
        .unwrap_err();
    assert_eq!(refused.kind, domain::ErrorKind::Forbidden);
    for (role, granted_by) in [("reader", "terms"), ("staff", "staff")] {
        domain
            .create_role(
                &acme,
                "acme",
                RoleInput {
                    name: role.into(),
                    label: None,
                    auth_service: granted_by.into(),
                },
            )
            .await
            .unwrap();
    }
    domain
        .create_viewer(
            &acme,
            "acme",
            ViewerInput {
                username: "ana".into(),
                password: "correct horse".into(),
                roles: vec!["staff".into()],
            },
        )
        .await
        .unwrap();
    let customer_id = domain.visitor_customer("acme").await.unwrap();

    // which services grant which of an asset's roles
    let granting = domain
        .services_granting(
            customer_id,
            &["reader".into(), "staff".into(), "ghost".into()],
        )
        .await
        .unwrap();
    let names: Vec<(&str, &[String])> = granting
        .iter()
        .map(|(service, roles)| (service.name.as_str(), roles.as_slice()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("staff", &["staff".to_owned()][..]),
            ("terms", &["reader".to_owned()][..])
        ]
    );

    // viewer passwords: right, wrong, unknown
    let (viewer, roles) = domain
        .check_viewer(customer_id, "ana", "correct horse")
        .await
        .unwrap()
        .expect("right password");
    assert_eq!(roles, vec!["staff".to_owned()]);
    assert!(
        domain
            .check_viewer(customer_id, "ana", "wrong")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        domain
            .check_viewer(customer_id, "bob", "x")
            .await
            .unwrap()
            .is_none()
    );

    // a new session, then a second grant merged into it
    let reader = domain.roles_granted_by(&terms).await.unwrap();
    let first = domain
        .grant_session(
            customer_id,
            None,
            &reader,
            120,
            Some("https://a.example"),
            None,
        )
        .await
        .unwrap();
    let secret = first.new_secret.expect("a new session has a secret");
    let merged = domain
        .grant_session(
            customer_id,
            Some(&secret),
            &["staff".to_owned()],
            60,
            Some("https://b.example"),
            Some(viewer),
        )
        .await
        .unwrap();
    // a login raises the session under a new secret: the old cookie no longer names it
    assert_eq!(merged.id, first.id);
    let old_secret = secret;
    let secret = merged.new_secret.expect("a login rotates the secret");
    assert_eq!(
        domain
            .visitor_session(customer_id, &old_secret)
            .await
            .unwrap(),
        SessionLookup::Missing
    );
    let SessionLookup::Live(session) = domain.visitor_session(customer_id, &secret).await.unwrap()
    else {
        panic!("live session")
    };
    assert_eq!(session.roles, vec!["reader".to_owned(), "staff".to_owned()]);
    assert_eq!(
        session.origins,
        vec![
            "https://a.example".to_owned(),
            "https://b.example".to_owned()
        ]
    );
    assert_eq!(
        domain
            .visitor_session_by_id(customer_id, first.id)
            .await
            .unwrap(),
        SessionLookup::Live(session)
    );
    // the secret is stored only as its digest, and other customers' ids find nothing
    let rival_id = domain.visitor_customer("rival").await.unwrap();
    assert_eq!(
        domain.visitor_session(rival_id, &secret).await.unwrap(),
        SessionLookup::Missing
    );
    assert_eq!(
        domain
            .visitor_session(customer_id, &auth::session_digest(&secret))
            .await
            .unwrap(),
        SessionLookup::Missing
    );
    // a new password ends the viewer's sessions
    domain
        .update_viewer(
            &acme,
            "acme",
            "ana",
            domain::ViewerPatch {
                password: Some("battery staple".into()),
                roles: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        domain.visitor_session(customer_id, &secret).await.unwrap(),
        SessionLookup::Missing
    );
    // logout
    let again = domain
        .grant_session(customer_id, None, &reader, 120, None, None)
        .await
        .unwrap();
    let secret = again.new_secret.unwrap();
    assert!(domain.end_session(customer_id, &secret).await.unwrap());
    assert_eq!(
        domain.visitor_session(customer_id, &secret).await.unwrap(),
        SessionLookup::Missing
    );
    // in-use checks
    let in_use = domain
        .delete_auth_service(&acme, "acme", "terms")
        .await
        .unwrap_err();
    assert_eq!(in_use.kind, domain::ErrorKind::Conflict);
    let held = domain
        .delete_role(&acme, "acme", "staff")
        .await
        .unwrap_err();
    assert_eq!(held.kind, domain::ErrorKind::Conflict);
    assert!(domain.delete_viewer(&acme, "acme", "ana").await.unwrap());
    assert!(domain.delete_role(&acme, "acme", "staff").await.unwrap());
    assert!(
        domain
            .delete_auth_service(&acme, "acme", "staff")
            .await
            .unwrap()
    );
}

/// Issue 18, item 17: origin-rule passwords were stored in plain text. They are sealed under a
/// key derived from the signing secret; rows stored before that still work and are sealed by
/// `seal_plain_origin_secrets` (run at every start).
async fn origin_rule_secrets_are_sealed_at_rest(domain: Domain) {
    use domain::entities::origin_rule;
    use domain::{OriginCredentials, OriginRuleInput, OriginStrategy};
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};

    let acme = new_customer(&domain, "acme").await;
    let Principal::Customer { customer_id, .. } = acme.clone() else {
        unreachable!()
    };
    let rule = |strategy, username: &str, password: &str| OriginRuleInput {
        pattern: "^(https://media\\.example\\.org|s3://acme-masters)/".into(),
        strategy,
        username: username.into(),
        password: password.into(),
        region: None,
        endpoint: None,
    };
    domain
        .create_origin_rule(
            &acme,
            "acme",
            rule(OriginStrategy::Basic, "user", "basic-password-7f3a"),
        )
        .await
        .unwrap();
    let s3 = domain
        .create_origin_rule(
            &acme,
            "acme",
            OriginRuleInput {
                region: Some("eu-west-1".into()),
                endpoint: Some("https://s3.example.org:9000/".into()),
                ..rule(OriginStrategy::S3, "AKIAACME", "s3-secret-key-9c2e")
            },
        )
        .await
        .unwrap();
    assert_eq!(s3.strategy, OriginStrategy::S3);
    assert_eq!(s3.endpoint.as_deref(), Some("https://s3.example.org:9000"));

    let stored = origin_rule::Entity::find().all(domain.db()).await.unwrap();
    assert_eq!(stored.len(), 2);
    for row in &stored {
        assert!(row.sealed);
        for secret in ["basic-password", "s3-secret-key", "7f3a", "9c2e"] {
            assert!(!row.password.contains(secret), "{secret} stored readable");
        }
    }
    assert_eq!(
        domain
            .origin_credentials(customer_id, "https://media.example.org/a.jpg")
            .await
            .unwrap(),
        Some(OriginCredentials::Basic {
            username: "user".into(),
            password: "basic-password-7f3a".into()
        })
    );
    let Some(OriginCredentials::S3(key)) = domain
        .origin_credentials(customer_id, "s3://acme-masters/a.jpg")
        .await
        .unwrap()
    else {
        panic!("the S3 rule serves s3:// origins");
    };
    assert_eq!(
        (key.access_key_id.as_str(), key.secret_access_key.as_str()),
        ("AKIAACME", "s3-secret-key-9c2e")
    );
    assert_eq!(key.region, "eu-west-1");
    assert!(
        domain
            .origin_credentials(customer_id, "s3://other-bucket/a.jpg")
            .await
            .unwrap()
            .is_none()
    );

    // a rule stored before sealing existed is used as it is, then sealed
    let legacy = origin_rule::ActiveModel {
        customer_id: Set(customer_id),
        pattern: Set("^https://legacy\\.example\\.org/".into()),
        username: Set("old".into()),
        password: Set("legacy-plain-password".into()),
        strategy: Set("basic".into()),
        sealed: Set(false),
        created: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(domain.db())
    .await
    .unwrap();
    let expected = Some(OriginCredentials::Basic {
        username: "old".into(),
        password: "legacy-plain-password".into(),
    });
    let legacy_origin = "https://legacy.example.org/a.jpg";
    assert_eq!(
        domain
            .origin_credentials(customer_id, legacy_origin)
            .await
            .unwrap(),
        expected
    );
    assert_eq!(domain.seal_plain_origin_secrets().await.unwrap(), 1);
    assert_eq!(domain.seal_plain_origin_secrets().await.unwrap(), 0);
    let row = origin_rule::Entity::find_by_id(legacy.id)
        .one(domain.db())
        .await
        .unwrap()
        .unwrap();
    assert!(row.sealed && !row.password.contains("legacy-plain"));
    assert_eq!(
        domain
            .origin_credentials(customer_id, legacy_origin)
            .await
            .unwrap(),
        expected
    );

    // under another signing secret the rule is reported unreadable, not sent garbled
    let other = Domain::new(
        domain.db().clone(),
        domain::CredentialSettings {
            jwt_secret: b"another-signing-secret-another-signing".to_vec(),
            jwt_ttl_seconds: 600,
            static_admin: None,
        },
    );
    assert!(matches!(
        other
            .origin_credentials(customer_id, legacy_origin)
            .await
            .unwrap(),
        Some(OriginCredentials::Unreadable { .. })
    ));

    for (input, what) in [
        (
            OriginRuleInput {
                endpoint: Some("ftp://s3.example.org".into()),
                ..rule(OriginStrategy::S3, "AKIA", "secret")
            },
            "an endpoint that is not http(s)",
        ),
        (
            OriginRuleInput {
                endpoint: Some("https://user:pw@s3.example.org".into()),
                ..rule(OriginStrategy::S3, "AKIA", "secret")
            },
            "an endpoint with credentials",
        ),
        (
            OriginRuleInput {
                region: Some("EU WEST".into()),
                ..rule(OriginStrategy::S3, "AKIA", "secret")
            },
            "a malformed region",
        ),
        (
            rule(OriginStrategy::S3, "AKIA", ""),
            "an S3 rule without a secret",
        ),
        (
            OriginRuleInput {
                region: Some("eu-west-1".into()),
                ..rule(OriginStrategy::Basic, "user", "pw")
            },
            "a region on a basic rule",
        ),
    ] {
        let error = domain
            .create_origin_rule(&acme, "acme", input)
            .await
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidInput, "{what}");
    }
}

/// A CSV of `rows` rows for space `space`; `bad` maps a row number (from 1) to its text.
fn staged_csv(space: i32, rows: usize, bad: &[(usize, String)]) -> String {
    let mut csv = String::from("Line,ID,MediaType,Space,Origin,Reference1,Number1\n");
    for line in 1..=rows {
        match bad.iter().find(|(at, _)| *at == line) {
            Some((_, text)) => csv.push_str(text),
            None => csv.push_str(&format!(
                "{line},page-{line},image/jpeg,{space},https://example.org/p{line}.jpg,book,{line}"
            )),
        }
        csv.push('\n');
    }
    csv
}

/// A 25,000-row CSV (the batch limit is 10,000) imports as three batches of one import, in
/// file order, created together: all or nothing, listed together, each naming the first.
async fn imports_over_the_batch_limit_become_several_batches(domain: Domain) {
    let acme = new_customer(&domain, "acme").await;
    let space = domain
        .create_space(&acme, "acme", space_named("big"))
        .await
        .unwrap()
        .id;
    let rows = 2 * domain::MAX_BATCH_MEMBERS + 5_000;
    // one bad row anywhere refuses the whole import: no batch at all
    let bad = staged_csv(
        space,
        rows,
        &[(
            rows - 1,
            format!(
                "{},bad/id,image/jpeg,{space},https://example.org/x.jpg,book,1",
                rows - 1
            ),
        )],
    );
    let refused = domain
        .import_csv(&acme, "acme", bad.as_bytes(), false)
        .await
        .unwrap();
    assert!(refused.batches.is_empty());
    assert_eq!(refused.errors.len(), 1, "{:?}", refused.errors);
    // every batch of the customer, counted
    let batch_count = || async {
        domain
            .batches(
                &acme,
                "acme",
                domain::BatchListing::All,
                &domain::PageRequest::new(Some(10), None),
            )
            .await
            .unwrap()
            .total_count
    };
    assert_eq!(batch_count().await, 0, "nothing was created");

    let imported = domain
        .import_csv(
            &acme,
            "acme",
            staged_csv(space, rows, &[]).as_bytes(),
            false,
        )
        .await
        .unwrap();
    let counts: Vec<i32> = imported.batches.iter().map(|batch| batch.count).collect();
    assert_eq!(counts, vec![10_000, 10_000, 5_000]);
    let first = imported.batches[0].id;
    for batch in &imported.batches {
        assert_eq!(batch.import, Some(first), "{batch:?}");
        assert_eq!(
            domain.batch(&acme, "acme", batch.id).await.unwrap().import,
            Some(first)
        );
    }
    // in file order: the second batch starts at line 10,001
    let members = domain
        .batch_members(
            &acme,
            "acme",
            imported.batches[1].id,
            None,
            &domain::PageRequest::new(Some(1), None),
        )
        .await
        .unwrap();
    assert_eq!(members.items[0].1.line, Some(10_001));
    assert_eq!(batch_count().await, 3);
    let waiting = domain.queue_counts(&acme, "acme").await.unwrap();
    assert_eq!(waiting.images_waiting, rows as u64);
    // a batch on its own names no import
    let single = staged_csv(space, 3, &[]).replace("page-", "single-");
    let alone = domain
        .import_csv(&acme, "acme", single.as_bytes(), false)
        .await
        .unwrap();
    assert_eq!(alone.batches.len(), 1);
    assert_eq!(alone.batches[0].import, None);
}

/// 250 rows, 3 of them bad: one with a field missing, one with a bad ID, one with a bad
/// Number1.
fn csv_with_three_bad_rows(space: i32) -> String {
    staged_csv(
        space,
        250,
        &[
            (
                40,
                format!("40,page-40,image/jpeg,{space},https://example.org/p40.jpg,book"),
            ),
            (
                150,
                format!("150,bad/id,image/jpeg,{space},https://example.org/p150.jpg,book,150"),
            ),
            (
                230,
                format!("230,page-230,image/jpeg,{space},https://example.org/p230.jpg,book,many"),
            ),
        ],
    )
}

async fn staged_imports_page_every_row_with_its_problems(domain: Domain) {
    let (acme, space) = customer_with_space(&domain, "acme").await;
    let staged = domain
        .stage_csv_import(&acme, "acme", csv_with_three_bad_rows(space).as_bytes())
        .await
        .unwrap();
    assert_eq!(staged.id.len(), 32);
    assert!(staged.expires > staged.created);
    let read = domain
        .staged_csv_import(&acme, "acme", &staged.id)
        .await
        .unwrap();
    assert_eq!(read.import.total_rows, 250);
    assert_eq!(
        read.import.rows.len(),
        250,
        "every row, the malformed one too"
    );
    assert_eq!(read.import.valid_rows, 247);
    assert_eq!(read.error_count(), 3);
    assert_eq!(read.pages_with_errors(), vec![1, 2, 3]);

    let mut after = None;
    let mut seen = Vec::new();
    let mut bad = Vec::new();
    for page_number in 1..=3 {
        let page = read
            .rows_page(&PageRequest::new(Some(100), after.clone()), false)
            .unwrap();
        assert_eq!(page.total_count, 250);
        assert_eq!(page.items.len(), if page_number < 3 { 100 } else { 50 });
        assert_eq!(page.has_next_page, page_number < 3);
        for (_, row) in &page.items {
            seen.push(row.file_line);
            if !row.is_valid() {
                let problem = &row.problems[0];
                bad.push((row.line, problem.column.clone(), problem.code));
            }
        }
        after = page.items.last().map(|(cursor, _)| cursor.clone());
    }
    assert_eq!(seen, (2..=251).collect::<Vec<u64>>(), "file order");
    assert_eq!(
        bad,
        vec![
            (41, None, "malformed-row"),
            (150, Some("ID".to_owned()), "invalid-id"),
            (230, Some("Number1".to_owned()), "invalid-number"),
        ]
    );
    let malformed = &read.import.rows[39];
    assert_eq!(malformed.cells.len(), 6, "its cells as written");
    assert_eq!(malformed.cells[1].value, "page-40");
    assert_eq!(malformed.cells[1].column.as_deref(), Some("ID"));

    let only_errors = read
        .rows_page(&PageRequest::new(Some(2), None), true)
        .unwrap();
    assert_eq!(only_errors.total_count, 3);
    let lines: Vec<i64> = only_errors.items.iter().map(|(_, row)| row.line).collect();
    assert_eq!(lines, vec![41, 150]);
    let error = read
        .rows_page(&PageRequest::new(Some(101), None), false)
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::BadRequest);
}

async fn staged_imports_belong_to_their_customer(domain: Domain) {
    let (acme, space) = customer_with_space(&domain, "acme").await;
    let beta = new_customer(&domain, "beta").await;
    let staged = domain
        .stage_csv_import(&acme, "acme", staged_csv(space, 2, &[]).as_bytes())
        .await
        .unwrap();
    let read = domain.staged_csv_import(&beta, "beta", &staged.id).await;
    assert_eq!(read.unwrap_err().kind, ErrorKind::NotFound);
    let confirm = domain.confirm_csv_import(&beta, "beta", &staged.id).await;
    assert_eq!(confirm.unwrap_err().kind, ErrorKind::NotFound);
    let other_name = domain.staged_csv_import(&beta, "acme", &staged.id).await;
    assert_eq!(other_name.unwrap_err().kind, ErrorKind::Forbidden);
    let unknown = domain.staged_csv_import(&acme, "acme", "nope").await;
    assert_eq!(unknown.unwrap_err().kind, ErrorKind::NotFound);
    // the admin reaches every customer's imports
    let by_admin = domain
        .staged_csv_import(&admin(), "acme", &staged.id)
        .await
        .unwrap();
    assert_eq!(by_admin.import.valid_rows, 2);
}

async fn expired_staged_imports_are_refused_and_removed(domain: Domain) {
    let (acme, space) = customer_with_space(&domain, "acme").await;
    let csv = staged_csv(space, 2, &[]);
    let live = domain
        .stage_csv_import(&acme, "acme", csv.as_bytes())
        .await
        .unwrap();
    let expired = domain
        .stage_csv_import_for(&acme, "acme", csv.as_bytes(), chrono::Duration::zero())
        .await
        .unwrap();
    let read = domain.staged_csv_import(&acme, "acme", &expired.id).await;
    assert_eq!(read.unwrap_err().kind, ErrorKind::Expired);
    let confirm = domain.confirm_csv_import(&acme, "acme", &expired.id).await;
    assert_eq!(
        confirm.unwrap_err().kind,
        ErrorKind::NotFound,
        "removed on the way"
    );
    domain
        .staged_csv_import(&acme, "acme", &live.id)
        .await
        .unwrap();
}

async fn staged_imports_confirm_once_and_only_without_problems(domain: Domain) {
    let (acme, space) = customer_with_space(&domain, "acme").await;
    let with_problems = domain
        .stage_csv_import(&acme, "acme", csv_with_three_bad_rows(space).as_bytes())
        .await
        .unwrap();
    let refused = domain
        .confirm_csv_import(&acme, "acme", &with_problems.id)
        .await
        .unwrap_err();
    assert_eq!(refused.kind, ErrorKind::InvalidInput);
    let none = domain
        .assets(
            &acme,
            "acme",
            space,
            &AssetFilter::default(),
            AssetOrder::default(),
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(none.total_count, 0, "all or nothing");

    let clean = domain
        .stage_csv_import(&acme, "acme", staged_csv(space, 120, &[]).as_bytes())
        .await
        .unwrap();
    let confirmed = domain
        .confirm_csv_import(&acme, "acme", &clean.id)
        .await
        .unwrap();
    assert_eq!(confirmed.batches.len(), 1);
    let batch = confirmed.batches[0].clone();
    assert_eq!((batch.count, batch.import), (120, None));
    let again = domain
        .confirm_csv_import(&acme, "acme", &clean.id)
        .await
        .unwrap_err();
    assert_eq!(again.kind, ErrorKind::Conflict);
    let read = domain
        .staged_csv_import(&acme, "acme", &clean.id)
        .await
        .unwrap();
    assert_eq!(read.batch_id, Some(batch.id));
    let members = domain
        .batch_members(
            &acme,
            "acme",
            batch.id,
            None,
            &PageRequest::new(Some(200), None),
        )
        .await
        .unwrap();
    assert_eq!(members.total_count, 120, "one batch, created once");
    assert_eq!(members.items[119].1.line, Some(120));
}

async fn staged_imports_refuse_files_that_are_not_csv_imports(domain: Domain) {
    let (acme, space) = customer_with_space(&domain, "acme").await;
    assert_eq!(space, 1, "the sample names space 1");
    let sample = domain
        .stage_csv_import(&acme, "acme", domain::CSV_SAMPLE.as_bytes())
        .await
        .unwrap();
    assert_eq!((sample.import.valid_rows, sample.error_count()), (2, 0));

    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xff\xfe";
    let too_many = staged_csv(space, domain::MAX_IMPORT_MEMBERS + 1, &[]);
    for (what, content) in [
        ("not a CSV", png.as_slice()),
        ("no header", b"".as_slice()),
        ("wrong header", b"Name,Size\nx,1\n".as_slice()),
        ("no rows", b"Line,ID,MediaType,Space,Origin\n".as_slice()),
        ("too many rows", too_many.as_bytes()),
    ] {
        let error = domain
            .stage_csv_import(&acme, "acme", content)
            .await
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::InvalidInput, "{what}: {error}");
    }
}

/// What the DLCS-compatible REST API adds to the domain: customers by number, a PUT that
/// registers or replaces, numbered pages, several tags at once, batch listings, queue counts,
/// a batch's assets, and media types read from the bytes.
async fn the_rest_api_operations_hold_on_every_database(domain: Domain) {
    let (acme, space) = customer_with_space(&domain, "acme").await;
    let rival = new_customer(&domain, "rival").await;
    let number = domain.customer(&acme, "acme").await.unwrap().id;
    let by_number = domain
        .customer_by_reference(&acme, &number.to_string())
        .await
        .unwrap();
    assert_eq!(by_number.name, "acme");
    let refused = domain
        .customer_by_reference(&rival, &number.to_string())
        .await
        .unwrap_err();
    assert_eq!(refused.kind, ErrorKind::Forbidden);

    let (created, was_created) = domain
        .put_asset(
            &acme,
            "acme",
            space,
            AssetInput {
                references: References {
                    string1: Some("first".into()),
                    ..Default::default()
                },
                tags: Some(vec!["a".into(), "b".into()]),
                ..image("p1")
            },
        )
        .await
        .unwrap();
    assert!(was_created);
    let (replaced, was_created) = domain
        .put_asset(
            &acme,
            "acme",
            space,
            AssetInput {
                references: References {
                    string2: Some("second".into()),
                    ..Default::default()
                },
                tags: Some(vec!["b".into()]),
                ..image("p1")
            },
        )
        .await
        .unwrap();
    assert!(!was_created);
    assert_eq!(replaced.created, created.created);
    assert_eq!(
        (
            replaced.references.string1,
            replaced.references.string2.as_deref()
        ),
        (None, Some("second"))
    );
    let no_origin = domain
        .put_asset(
            &acme,
            "acme",
            space,
            AssetInput {
                origin: None,
                ..image("p2")
            },
        )
        .await
        .unwrap_err();
    assert_eq!(no_origin.kind, ErrorKind::InvalidOrigin);

    for id in ["p2", "p3", "p4"] {
        domain
            .register_asset(
                &acme,
                "acme",
                space,
                AssetInput {
                    tags: Some(vec!["a".into(), "b".into()]),
                    ..image(id)
                },
            )
            .await
            .unwrap();
    }
    let both = AssetFilter {
        tags: vec!["a".into(), "b".into()],
        ..AssetFilter::default()
    };
    let second_page = domain
        .assets(
            &acme,
            "acme",
            space,
            &both,
            AssetOrder::default(),
            &PageRequest::numbered(2, 2),
        )
        .await
        .unwrap();
    assert_eq!(second_page.total_count, 3, "p1 has only b now");
    assert_eq!(ids(&second_page), vec!["p4"]);

    let unknown = AssetInput {
        media_type: String::new(),
        ..image("sniffed")
    };
    let batch = domain
        .create_batch(
            &acme,
            "acme",
            vec![domain::BatchMemberInput {
                space,
                asset: unknown,
                line: None,
            }],
        )
        .await
        .unwrap()
        .unwrap()
        .remove(0);
    let counts = domain.queue_counts(&acme, "acme").await.unwrap();
    assert_eq!((counts.batches_waiting, counts.images_waiting), (1, 5));
    let active = domain
        .batches(
            &acme,
            "acme",
            domain::BatchListing::Active,
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(active.total_count, 1);
    while let Some(job) = domain.claim_job("w").await.unwrap() {
        if job.asset.id == "sniffed" {
            assert_eq!(job.asset.media_type, "");
            domain
                .record_inferred_media_type(job.asset.customer_id, space, "sniffed", "image/png")
                .await
                .unwrap();
        }
        domain
            .finish_job(&job, domain::JobOutcome::Done(facts(3)))
            .await
            .unwrap();
    }
    let recent = domain
        .batches(
            &acme,
            "acme",
            domain::BatchListing::Recent,
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(recent.total_count, 1);
    let members = domain
        .batch_assets(&acme, "acme", batch.id, None, &PageRequest::default())
        .await
        .unwrap();
    let (member, asset) = &members.items[0].1;
    assert_eq!(member.asset_id, "sniffed");
    let asset = asset.as_ref().expect("the member's asset");
    assert_eq!(asset.media_type, "image/png");
    assert_eq!(asset.family, domain::AssetFamily::Image);
    let counts = domain.queue_counts(&acme, "acme").await.unwrap();
    assert_eq!((counts.batches_waiting, counts.images_waiting), (0, 0));

    // a PUT replacing a batch's asset keeps its link to the batch
    let (put_again, _) = domain
        .put_asset(&acme, "acme", space, image("sniffed"))
        .await
        .unwrap();
    assert_eq!(put_again.batch, Some(batch.id));

    // two PUTs of a new id at once: one creates, the other replaces, neither conflicts
    for round in 0..5 {
        let id = format!("raced-{round}");
        let puts = [0, 1].map(|_| {
            let (domain, acme, id) = (domain.clone(), acme.clone(), id.clone());
            tokio::spawn(async move { domain.put_asset(&acme, "acme", space, image(&id)).await })
        });
        let mut created = Vec::new();
        for put in puts {
            created.push(put.await.unwrap().expect("no conflict").1);
        }
        created.sort_unstable();
        assert_eq!(created, vec![false, true], "round {round}");
    }

    // several patches are all or none
    let patch = |string3: &str| AssetPatch {
        references: ReferencesPatch {
            string3: Change::Set(string3.into()),
            ..Default::default()
        },
        ..AssetPatch::default()
    };
    let bad_origin = AssetPatch {
        origin: Some("ftp://example.org/x".into()),
        ..AssetPatch::default()
    };
    let refused = domain
        .update_assets(
            &acme,
            "acme",
            space,
            vec![
                ("p2".into(), patch("never")),
                ("p3".into(), bad_origin),
                ("nowhere".into(), patch("never")),
            ],
        )
        .await
        .unwrap()
        .unwrap_err();
    let problems: Vec<(usize, ErrorKind)> = refused
        .iter()
        .map(|problem| (problem.index, problem.error.kind))
        .collect();
    assert_eq!(
        problems,
        vec![(1, ErrorKind::InvalidOrigin), (2, ErrorKind::NotFound)]
    );
    let p2 = domain.asset(&acme, "acme", space, "p2").await.unwrap();
    assert_eq!(p2.references.string3, None, "nothing was written");
    let changed = domain
        .update_assets(
            &acme,
            "acme",
            space,
            vec![("p2".into(), patch("shelf")), ("p3".into(), patch("shelf"))],
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.len(), 2);
    assert_eq!(changed[1].references.string3.as_deref(), Some("shelf"));
}
