//! Which objects a list or watch returns: namespace, label selector and field selector.

use api::selector::{FieldOperator, FieldSelector, LabelSelector, Selectable};
use api::ResourceInfo;

use crate::http::query::Query;
use crate::status::ApiError;

pub struct ObjectFilter {
    info: &'static ResourceInfo,
    labels: Option<LabelSelector>,
    fields: Option<FieldSelector>,
}

impl ObjectFilter {
    /// The `labelSelector` and `fieldSelector` parameters of a request, checked against what the
    /// resource supports.
    pub fn from_query(info: &'static ResourceInfo, query: &Query) -> Result<Self, ApiError> {
        let labels = query
            .non_empty("labelSelector")
            .map(LabelSelector::parse)
            .transpose()
            .map_err(|e| ApiError::bad_request(e.to_string()))?
            .filter(|s| !s.is_empty());
        let fields = query
            .non_empty("fieldSelector")
            .map(FieldSelector::parse)
            .transpose()
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        if let Some(fields) = &fields {
            api::selector::check_field_selector(info, fields)
                .map_err(|e| ApiError::bad_request(e.to_string()))?;
        }
        Ok(Self {
            info,
            labels,
            fields,
        })
    }

    pub fn is_everything(&self) -> bool {
        self.labels.is_none() && self.fields.is_none()
    }

    /// The single name a `metadata.name=` field selector pins, if any.
    pub fn pinned_name(&self) -> Option<String> {
        self.fields
            .as_ref()?
            .requirements()
            .iter()
            .find(|r| r.field == "metadata.name" && r.operator == FieldOperator::Equals)
            .map(|r| r.value.clone())
    }

    /// Whether `object` (parsed, or a cache's view of it) passes both selectors.
    pub fn matches<S: Selectable + ?Sized>(&self, object: &S) -> bool {
        if let Some(labels) = &self.labels {
            if !labels.matches_labels_of(object) {
                return false;
            }
        }
        if let Some(fields) = &self.fields {
            let values = api::selector::selectable_field_values(self.info, object);
            if !fields.matches(&values) {
                return false;
            }
        }
        true
    }
}
