//! The descriptor table of the built-in protobuf messages, generated at build time from the
//! `k8s-pb` sources (field numbers, wire types) and `k8s-openapi` sources (JSON names).

/// A scalar protobuf field type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scalar {
    String,
    Bytes,
    Bool,
    Int32,
    Int64,
}

/// Messages whose JSON form is not an object of their fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Special {
    Time,
    MicroTime,
    FieldsV1,
    /// A Go `[]string` type with its own message (`Verbs`, `ExtraValue`): `{1 repeated items}`.
    StringList,
    IntOrString,
    Quantity,
    RawExtension,
}

/// The value type of a `map<string, V>` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MapValue {
    Scalar(Scalar),
    /// Index into [`MESSAGES`].
    Message(usize),
}

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldKind {
    Scalar(Scalar),
    /// Index into [`MESSAGES`].
    Message(usize),
    /// `map<string, V>`.
    Map(MapValue),
}

#[derive(Debug)]
pub(crate) struct FieldDescriptor {
    pub tag: u32,
    /// Empty for an inline member.
    pub json_name: &'static str,
    /// A Go struct embedded `json:",inline"`: its fields live in the parent's JSON object.
    pub inline: bool,
    pub repeated: bool,
    pub kind: FieldKind,
}

#[derive(Debug)]
pub(crate) struct MessageDescriptor {
    /// Dot-separated k8s-pb path, e.g. `api.core.v1.Secret`.
    pub name: &'static str,
    pub special: Option<Special>,
    /// Sorted by tag.
    pub fields: &'static [FieldDescriptor],
}

impl MessageDescriptor {
    pub fn field_by_tag(&self, tag: u32) -> Option<&'static FieldDescriptor> {
        let fields = self.fields;
        fields
            .binary_search_by_key(&tag, |f| f.tag)
            .ok()
            .and_then(|i| fields.get(i))
    }

    #[cfg(test)]
    pub fn field_by_json_name(&self, name: &str) -> Option<&'static FieldDescriptor> {
        self.fields.iter().find(|f| f.json_name == name)
    }
}

/// The message at `index`; indices come from the generated table itself.
pub(crate) fn message(index: usize) -> &'static MessageDescriptor {
    &MESSAGES[index]
}

/// The message with the full name `name`.
#[cfg(test)]
pub(crate) fn message_by_name(name: &str) -> Option<&'static MessageDescriptor> {
    MESSAGES
        .binary_search_by(|m| m.name.cmp(name))
        .ok()
        .map(message)
}

include!(concat!(env!("OUT_DIR"), "/descriptors.rs"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_fields_by_tag() {
        assert!(MESSAGES.windows(2).all(|w| w[0].name < w[1].name));
        for m in MESSAGES {
            assert!(
                m.fields.windows(2).all(|w| w[0].tag < w[1].tag),
                "{}",
                m.name
            );
        }
    }

    #[test]
    fn json_names_follow_upstream() {
        let spec = message_by_name("api.core.v1.ServiceSpec").unwrap();
        assert_eq!(spec.field_by_tag(3).unwrap().json_name, "clusterIP");
        assert_eq!(spec.field_by_tag(18).unwrap().json_name, "clusterIPs");
        let meta = message_by_name("apimachinery.pkg.apis.meta.v1.ObjectMeta").unwrap();
        assert_eq!(meta.field_by_tag(5).unwrap().json_name, "uid");
        assert_eq!(meta.field_by_tag(8).unwrap().json_name, "creationTimestamp");
        let secret = message_by_name("api.core.v1.Secret").unwrap();
        assert_eq!(
            secret.field_by_tag(2).unwrap().kind,
            FieldKind::Map(MapValue::Scalar(Scalar::Bytes))
        );
        let volume = message_by_name("api.core.v1.AWSElasticBlockStoreVolumeSource")
            .or_else(|| message_by_name("api.core.v1.AwsElasticBlockStoreVolumeSource"))
            .unwrap();
        assert_eq!(volume.field_by_tag(1).unwrap().json_name, "volumeID");
    }
}
