//! The free references every asset carries for its owner's use: three strings and three
//! numbers (a CSV's Reference1-3 and Number1-3), which named queries select and order by,
//! listings filter on and manifests show.
//!
//! Their list is written here and nowhere else: the GraphQL and REST APIs take their fields
//! from these types (the `graphql` and `openapi` features derive what those APIs need), and
//! every read, write, check and filter of the columns goes through the functions below.

use sea_orm::{ColumnTrait, QueryFilter, Set};
use serde::{Deserialize, Deserializer, Serialize};

use crate::entities::asset;
use crate::error::{Error, Result};
use crate::validate;

/// An asset's free references: what it holds, what a registration gives it, or (as a
/// listing filter) the values an asset must hold exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject, async_graphql::InputObject),
    graphql(input_name = "ReferencesInput")
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct References {
    /// Free reference (the CSV's Reference1).
    pub string1: Option<String>,
    /// Free reference (the CSV's Reference2).
    pub string2: Option<String>,
    /// Free reference (the CSV's Reference3).
    pub string3: Option<String>,
    /// Free number (the CSV's Number1), e.g. a page number.
    pub number1: Option<i64>,
    /// Free number (the CSV's Number2).
    pub number2: Option<i64>,
    /// Free number (the CSV's Number3).
    pub number3: Option<i64>,
}

/// The names of the string references, in order: `string1` to `string3`.
const STRING_NAMES: [&str; 3] = ["string1", "string2", "string3"];
/// The names of the number references, in order: `number1` to `number3`.
const NUMBER_NAMES: [&str; 3] = ["number1", "number2", "number3"];

/// The columns of the string references, in order.
pub(crate) const STRING_COLUMNS: [asset::Column; 3] = [
    asset::Column::String1,
    asset::Column::String2,
    asset::Column::String3,
];
/// The columns of the number references, in order.
pub(crate) const NUMBER_COLUMNS: [asset::Column; 3] = [
    asset::Column::Number1,
    asset::Column::Number2,
    asset::Column::Number3,
];

/// A change to one optional value: left alone, cleared, or set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Change<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Change<T> {
    /// The value after this change of `current`.
    pub fn applied_to(self, current: Option<T>) -> Option<T> {
        match self {
            Change::Keep => current,
            Change::Clear => None,
            Change::Set(value) => Some(value),
        }
    }

    /// The value it sets, if it sets one.
    pub fn set_value(self) -> Option<T> {
        match self {
            Change::Set(value) => Some(value),
            Change::Keep | Change::Clear => None,
        }
    }

    fn as_set(&self) -> Option<&T> {
        match self {
            Change::Set(value) => Some(value),
            Change::Keep | Change::Clear => None,
        }
    }
}

/// In JSON, `null` clears and a value sets; a property left out keeps its value (with the
/// field's `#[serde(default)]`).
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Change<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            Some(value) => Change::Set(value),
            None => Change::Clear,
        })
    }
}

/// Written as the value it sets, or `null`.
impl<T: Serialize> Serialize for Change<T> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        self.as_set().serialize(serializer)
    }
}

/// In GraphQL, as for JSON: `null` clears, a value sets, a field left out keeps its value.
#[cfg(feature = "graphql")]
impl<T: async_graphql::InputType> async_graphql::InputType for Change<T> {
    type RawValueType = T::RawValueType;

    fn type_name() -> std::borrow::Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::type_name().to_string()
    }

    fn create_type_info(registry: &mut async_graphql::registry::Registry) -> String {
        T::create_type_info(registry);
        T::type_name().to_string()
    }

    fn parse(value: Option<async_graphql::Value>) -> async_graphql::InputValueResult<Self> {
        match value {
            None => Ok(Change::Keep),
            Some(async_graphql::Value::Null) => Ok(Change::Clear),
            Some(value) => Ok(Change::Set(
                T::parse(Some(value)).map_err(async_graphql::InputValueError::propagate)?,
            )),
        }
    }

    fn to_value(&self) -> async_graphql::Value {
        match self {
            Change::Set(value) => value.to_value(),
            Change::Keep | Change::Clear => async_graphql::Value::Null,
        }
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        self.as_set().and_then(T::as_raw_value)
    }
}

/// Changes to an asset's free references: each left alone, cleared (`null`) or set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "graphql", derive(async_graphql::InputObject))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReferencesPatch {
    /// New string1; null clears it.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub string1: Change<String>,
    /// New string2; null clears it.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub string2: Change<String>,
    /// New string3; null clears it.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub string3: Change<String>,
    /// New number1; null clears it.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub number1: Change<i64>,
    /// New number2; null clears it.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub number2: Change<i64>,
    /// New number3; null clears it.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub number3: Change<i64>,
}

impl References {
    /// The strings, string1 first.
    pub fn strings(&self) -> [Option<&str>; 3] {
        [
            self.string1.as_deref(),
            self.string2.as_deref(),
            self.string3.as_deref(),
        ]
    }

    /// The numbers, number1 first.
    pub fn numbers(&self) -> [Option<i64>; 3] {
        [self.number1, self.number2, self.number3]
    }

    /// Every reference that holds a value, by name (`string1`, ..., `number3`), as text.
    pub fn named_values(&self) -> Vec<(&'static str, String)> {
        let strings = STRING_NAMES
            .into_iter()
            .zip(self.strings())
            .filter_map(|(name, value)| Some((name, value?.to_owned())));
        let numbers = NUMBER_NAMES
            .into_iter()
            .zip(self.numbers())
            .filter_map(|(name, value)| Some((name, value?.to_string())));
        strings.chain(numbers).collect()
    }

    /// Sets the reference called `name` from text (a number must be a whole number). Says
    /// whether `name` is a reference at all.
    pub fn set_from_text(&mut self, name: &str, text: &str) -> Result<bool> {
        let slot = |names: [&str; 3]| names.iter().position(|known| *known == name);
        if let Some(slot) = slot(STRING_NAMES) {
            *[&mut self.string1, &mut self.string2, &mut self.string3][slot] =
                Some(text.to_owned());
        } else if let Some(slot) = slot(NUMBER_NAMES) {
            let value = text.parse::<i64>().map_err(|_| {
                Error::bad_request(format!("{name} must be a whole number, got {text:?}"))
            })?;
            *[&mut self.number1, &mut self.number2, &mut self.number3][slot] = Some(value);
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    /// The same references, with empty strings taken as none.
    pub fn without_empty_strings(mut self) -> Self {
        for string in [&mut self.string1, &mut self.string2, &mut self.string3] {
            if string.as_deref() == Some("") {
                *string = None;
            }
        }
        self
    }

    /// What is wrong with each string, by name, when one cannot be stored.
    pub fn problems(&self) -> Vec<(&'static str, Error)> {
        check_strings(self.strings())
    }

    /// Fails with the first problem of [`References::problems`].
    pub fn validate(&self) -> Result<()> {
        first_problem(self.problems())
    }

    /// Whether every string could be compared with stored text (filters must not hold NUL).
    pub(crate) fn filterable(&self) -> bool {
        self.strings().into_iter().flatten().all(validate::storable)
    }

    /// An asset row's references.
    pub(crate) fn of_row(row: &asset::Model) -> Self {
        Self {
            string1: row.string1.clone(),
            string2: row.string2.clone(),
            string3: row.string3.clone(),
            number1: row.number1,
            number2: row.number2,
            number3: row.number3,
        }
    }

    /// Sets these references on an asset row being changed.
    pub(crate) fn set_on(self, row: &mut asset::ActiveModel) {
        row.string1 = Set(self.string1);
        row.string2 = Set(self.string2);
        row.string3 = Set(self.string3);
        row.number1 = Set(self.number1);
        row.number2 = Set(self.number2);
        row.number3 = Set(self.number3);
    }

    /// Narrows a query of assets to those holding exactly the references given.
    pub(crate) fn filter(
        &self,
        mut query: sea_orm::Select<asset::Entity>,
    ) -> sea_orm::Select<asset::Entity> {
        for (column, value) in STRING_COLUMNS.into_iter().zip(self.strings()) {
            if let Some(value) = value {
                query = query.filter(column.eq(value));
            }
        }
        for (column, value) in NUMBER_COLUMNS.into_iter().zip(self.numbers()) {
            if let Some(value) = value {
                query = query.filter(column.eq(value));
            }
        }
        query
    }
}

impl ReferencesPatch {
    /// The references a registration takes from this patch: what it sets, nothing else.
    pub fn into_values(self) -> References {
        References {
            string1: self.string1.set_value(),
            string2: self.string2.set_value(),
            string3: self.string3.set_value(),
            number1: self.number1.set_value(),
            number2: self.number2.set_value(),
            number3: self.number3.set_value(),
        }
    }

    /// The same changes, with an empty string clearing its reference.
    pub fn with_empty_strings_clearing(mut self) -> Self {
        for string in [&mut self.string1, &mut self.string2, &mut self.string3] {
            if matches!(string, Change::Set(text) if text.is_empty()) {
                *string = Change::Clear;
            }
        }
        self
    }

    /// Fails when a string it sets cannot be stored.
    pub fn validate(&self) -> Result<()> {
        first_problem(check_strings([
            self.string1.as_set().map(String::as_str),
            self.string2.as_set().map(String::as_str),
            self.string3.as_set().map(String::as_str),
        ]))
    }

    /// The references `current` becomes with these changes.
    pub fn applied_to(self, current: References) -> References {
        References {
            string1: self.string1.applied_to(current.string1),
            string2: self.string2.applied_to(current.string2),
            string3: self.string3.applied_to(current.string3),
            number1: self.number1.applied_to(current.number1),
            number2: self.number2.applied_to(current.number2),
            number3: self.number3.applied_to(current.number3),
        }
    }
}

fn check_strings(strings: [Option<&str>; 3]) -> Vec<(&'static str, Error)> {
    STRING_NAMES
        .into_iter()
        .zip(strings)
        .filter_map(|(name, value)| {
            let error = validate::reference(name, value?).err()?;
            Some((name, error))
        })
        .collect()
}

fn first_problem(problems: Vec<(&'static str, Error)>) -> Result<()> {
    match problems.into_iter().next() {
        Some((_, error)) => Err(error),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_tells_null_from_left_out() {
        let patch: ReferencesPatch =
            serde_json::from_str(r#"{"string1": null, "number2": 4, "other": 1}"#).unwrap();
        assert_eq!(patch.string1, Change::Clear);
        assert_eq!(patch.string2, Change::Keep);
        assert_eq!(patch.number2, Change::Set(4));
        assert_eq!(patch.clone().into_values().number2, Some(4));
        assert_eq!(patch.into_values().string1, None);
    }

    #[test]
    fn text_sets_references_by_name() {
        let mut references = References::default();
        assert!(references.set_from_text("string2", "b").unwrap());
        assert!(references.set_from_text("number3", "-7").unwrap());
        assert!(!references.set_from_text("tags", "x").unwrap());
        let error = references.set_from_text("number1", "one").unwrap_err();
        assert_eq!(error.code(), "bad-request");
        assert!(error.message.contains("number1"), "{}", error.message);
        assert_eq!(
            references.named_values(),
            vec![("string2", "b".to_owned()), ("number3", "-7".to_owned())]
        );
    }

    #[test]
    fn empty_strings_are_none_or_clear() {
        let references = References {
            string1: Some(String::new()),
            string2: Some("x".into()),
            ..Default::default()
        };
        assert_eq!(
            references.without_empty_strings().strings(),
            [None, Some("x"), None]
        );
        let patch = ReferencesPatch {
            string1: Change::Set(String::new()),
            string3: Change::Set("y".into()),
            ..Default::default()
        }
        .with_empty_strings_clearing();
        assert_eq!(patch.string1, Change::Clear);
        assert_eq!(patch.string3, Change::Set("y".into()));
    }
}
