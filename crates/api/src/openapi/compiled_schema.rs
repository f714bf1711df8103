//! The definitions compiled into a tree of field shapes for strict field validation: only what
//! tells known fields from unknown ones is kept, and `$ref`s become node indices.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::definitions::referenced_definition;

/// Index of a node in [`CompiledSchemas::nodes`].
pub(crate) type NodeId = usize;

/// What fields a JSON value may carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FieldShape {
    /// Anything goes: free-form objects, preserved unknown fields, int-or-string, scalars.
    Any,
    /// An object with named fields and/or map entries.
    Object {
        properties: HashMap<String, NodeId>,
        /// The schema of map values; `None` when only the named fields are allowed.
        map_values: Option<NodeId>,
    },
    /// An array whose items have the given shape.
    Array(NodeId),
}

/// Every definition compiled, addressable by definition name.
pub(crate) struct CompiledSchemas {
    pub nodes: Vec<FieldShape>,
    pub by_definition: HashMap<String, NodeId>,
}

impl CompiledSchemas {
    pub(crate) fn compile(definitions: &Map<String, Value>) -> Self {
        let by_definition: HashMap<String, NodeId> = definitions
            .keys()
            .enumerate()
            .map(|(id, name)| (name.clone(), id))
            .collect();
        let mut compiler = Compiler {
            nodes: vec![FieldShape::Any; definitions.len()],
            by_definition: &by_definition,
        };
        for (id, schema) in definitions.values().enumerate() {
            let shape = compiler.shape_of(schema);
            compiler.nodes[id] = shape;
        }
        let nodes = compiler.nodes;
        CompiledSchemas {
            nodes,
            by_definition,
        }
    }
}

struct Compiler<'a> {
    nodes: Vec<FieldShape>,
    by_definition: &'a HashMap<String, NodeId>,
}

impl Compiler<'_> {
    fn node_of(&mut self, schema: &Value) -> NodeId {
        if let Some(id) = self.referenced_node(schema) {
            return id;
        }
        let shape = self.shape_of(schema);
        self.nodes.push(shape);
        self.nodes.len() - 1
    }

    /// The definition a schema stands for: `{"$ref"}` or `{"allOf": [{"$ref"}], ...}`.
    fn referenced_node(&self, schema: &Value) -> Option<NodeId> {
        let target = match schema.get("allOf").and_then(Value::as_array) {
            Some(parts) if parts.len() == 1 => &parts[0],
            _ => schema,
        };
        referenced_definition(target).and_then(|name| self.by_definition.get(name).copied())
    }

    fn shape_of(&mut self, schema: &Value) -> FieldShape {
        let flag = |key: &str| schema.get(key).and_then(Value::as_bool) == Some(true);
        if flag("x-kubernetes-preserve-unknown-fields") || flag("x-kubernetes-int-or-string") {
            return FieldShape::Any;
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        let map_values = schema
            .get("additionalProperties")
            .filter(|values| values.is_object());
        if properties.is_some() || map_values.is_some() {
            let properties = properties
                .into_iter()
                .flatten()
                .map(|(name, property)| (name.clone(), self.node_of(property)))
                .collect();
            let map_values = map_values.map(|values| self.node_of(values));
            return FieldShape::Object {
                properties,
                map_values,
            };
        }
        if let Some(items) = schema.get("items") {
            return FieldShape::Array(self.node_of(items));
        }
        FieldShape::Any
    }
}
