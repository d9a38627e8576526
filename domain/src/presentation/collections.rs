//! Collection assembly: a customer's spaces and a space's READY assets as IIIF collections;
//! past `fanout` members, a tree of parts. Public reads: no principal.

use iiif::presentation::{Collection, Container, Member, MemberKind, Text};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use super::links::Links;
use super::manifests::{asset_label, thumbnail};
use super::settings::PresentationSettings;
use crate::Domain;
use crate::entities::{asset, space};
use crate::error::{Error, Result};
use crate::model::{Asset, AssetStatus};

/// One node below the root of a collection tree: at `level` 1 it lists up to `fanout` items;
/// at level L it lists up to `fanout` parts of level L-1. Part `index` of a level covers items
/// `index * fanout^level` up to the next part's first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    pub level: u32,
    pub index: u64,
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

impl Domain {
    /// A customer's spaces as a collection of collections; past `fanout` spaces, a tree.
    pub async fn customer_collection(
        &self,
        customer: &str,
        part: Option<Part>,
        fanout: u64,
        links: &Links,
    ) -> Result<Collection> {
        let owner = self.public_customer(customer).await?;
        let query = space::Entity::find()
            .filter(space::Column::CustomerId.eq(owner.id))
            .filter(space::Column::Published.eq(true));
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
            .filter(asset::Column::Status.eq(AssetStatus::Ready.as_str()))
            .filter(asset::Column::Published.eq(true));
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
