//! Limits that protect the server from abusive queries: what each list field costs in the
//! complexity count, and a cap on aliased fields per operation.
//!
//! async-graphql counts every field (`__typename` included) as 1 plus its children; list
//! fields are given a cost in proportion to the items they may return, so that a list of
//! objects costs its page size times one object, and nested lists multiply.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::{
    ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
};
use async_graphql::{
    Name, Pos, Positioned, ServerError, ServerResult, ValidationResult, Variables,
};

/// The items a list without paging is reckoned to hold (a customer's roles, viewers, origin
/// rules, API keys, auth services, named queries; an asset's thumbnails).
pub const UNPAGED_LIST_ITEMS: usize = 20;

/// The most items one page of `NamedQuery.preview` returns.
pub const MAX_PREVIEW_PAGE: i32 = 1000;

/// The items `NamedQuery.preview` returns when `first` is not given.
pub const DEFAULT_PREVIEW_PAGE: i32 = 100;

/// The cost of a list field of `items` entries: one per entry, times what an entry costs.
pub fn list_complexity(items: usize, child_complexity: usize) -> usize {
    items.max(1).saturating_mul(child_complexity.max(1))
}

/// The cost of a list without paging (see [`UNPAGED_LIST_ITEMS`]).
pub fn unpaged_complexity(child_complexity: usize) -> usize {
    list_complexity(UNPAGED_LIST_ITEMS, child_complexity)
}

/// Walking a document with its fragments expanded visits at most this many selections; a
/// document that would need more (fragments spread within fragments) is refused outright.
const MAX_SELECTIONS_VISITED: usize = 100_000;

/// Refuses an operation with more than `max_aliases` aliased fields (counted with fragments
/// expanded), before it runs. The count is taken when the query is parsed and the refusal
/// given after validation, so a query that is also too complex or too deep is told so first.
#[derive(Debug, Clone, Copy)]
pub struct AliasLimit {
    pub max_aliases: usize,
}

impl ExtensionFactory for AliasLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AliasCount {
            max_aliases: self.max_aliases,
            found: AtomicUsize::new(0),
        })
    }
}

struct AliasCount {
    max_aliases: usize,
    found: AtomicUsize,
}

/// The error of an operation over the alias cap: code `TOO_MANY_ALIASES`.
fn too_many_aliases(max_aliases: usize, found: Option<usize>) -> ServerError {
    let message = match found {
        Some(found) => format!(
            "query has {found} aliased fields; at most {max_aliases} are allowed per operation"
        ),
        None => format!(
            "query expands to too many selections (more than {MAX_SELECTIONS_VISITED}); \
             at most {max_aliases} aliased fields are allowed per operation"
        ),
    };
    let mut error = ServerError::new(message, Some(Pos::default()));
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", "TOO_MANY_ALIASES");
    error
}

#[async_trait::async_trait]
impl Extension for AliasCount {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        // `usize::MAX` stands for "too many selections to count"
        let found = most_aliases(&document).unwrap_or(usize::MAX);
        self.found.store(found, Ordering::Relaxed);
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        let found = self.found.load(Ordering::Relaxed);
        if found > self.max_aliases {
            let found = (found != usize::MAX).then_some(found);
            return Err(vec![too_many_aliases(self.max_aliases, found)]);
        }
        Ok(result)
    }
}

/// The most aliased fields any one operation of `document` selects, fragments expanded;
/// `None` when expanding them would visit more than [`MAX_SELECTIONS_VISITED`] selections.
pub fn most_aliases(document: &ExecutableDocument) -> Option<usize> {
    let mut most = 0;
    for (_, operation) in document.operations.iter() {
        let mut walk = Walk {
            fragments: &document.fragments,
            path: Vec::new(),
            aliases: 0,
            visited: 0,
        };
        walk.selection_set(&operation.node.selection_set)?;
        most = most.max(walk.aliases);
    }
    Some(most)
}

struct Walk<'a> {
    fragments: &'a std::collections::HashMap<Name, Positioned<FragmentDefinition>>,
    /// The fragments being expanded, so a cycle (refused later by validation) ends the walk.
    path: Vec<&'a str>,
    aliases: usize,
    visited: usize,
}

impl<'a> Walk<'a> {
    fn selection_set(&mut self, set: &'a Positioned<SelectionSet>) -> Option<()> {
        for selection in &set.node.items {
            self.visited += 1;
            if self.visited > MAX_SELECTIONS_VISITED {
                return None;
            }
            match &selection.node {
                Selection::Field(field) => {
                    if field.node.alias.is_some() {
                        self.aliases += 1;
                    }
                    self.selection_set(&field.node.selection_set)?;
                }
                Selection::InlineFragment(fragment) => {
                    self.selection_set(&fragment.node.selection_set)?;
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if self.path.contains(&name) {
                        continue;
                    }
                    let Some(fragment) = self.fragments.get(&spread.node.fragment_name.node) else {
                        continue;
                    };
                    self.path.push(name);
                    self.selection_set(&fragment.node.selection_set)?;
                    self.path.pop();
                }
            }
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    #[test]
    fn aliases_are_counted_through_fragments_per_operation() {
        let document = parse_query(
            "query A { a: x b: y ...F } query B { c: x } \
             fragment F on Q { d: z ... on Q { e: w } }",
        )
        .unwrap();
        assert_eq!(most_aliases(&document), Some(4));
    }

    #[test]
    fn fragment_fan_out_is_bounded() {
        // each fragment spreads the next one ten times: 10^6 selections if expanded
        let mut text = String::from("{ ...F0 }");
        for level in 0..6 {
            let spreads = format!("...F{} ", level + 1).repeat(10);
            text.push_str(&format!(" fragment F{level} on Q {{ a: x {spreads} }}"));
        }
        text.push_str(" fragment F6 on Q { x }");
        let document = parse_query(&text).unwrap();
        assert_eq!(most_aliases(&document), None);
    }

    #[test]
    fn fragment_cycles_end_the_walk() {
        let document =
            parse_query("{ ...F } fragment F on Q { a: x ...G } fragment G on Q { ...F }").unwrap();
        assert_eq!(most_aliases(&document), Some(1));
    }

    #[test]
    fn lists_cost_their_items_times_one_item() {
        assert_eq!(list_complexity(100, 3), 300);
        assert_eq!(list_complexity(0, 0), 1);
        assert_eq!(unpaged_complexity(2), 2 * UNPAGED_LIST_ITEMS);
    }
}
