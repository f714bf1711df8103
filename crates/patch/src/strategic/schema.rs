//! Schema model shared by strategic merge patch and server-side apply: which lists merge by
//! key (and which key), which are sets, which values are atomic.
//!
//! Only the parts of a type that change merge behaviour are described (see [`super::builtin`]);
//! everything else is a plain struct whose fields merge recursively and whose lists are atomic.

use super::builtin::{self, S};

/// How strategic merge patch treats a list (`patchStrategy` / `patchMergeKey` tags).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Smp {
    /// No strategy: the patch list replaces the live list.
    Replace,
    /// `patchStrategy:"merge"` with `patchMergeKey`: elements merge by that key.
    MergeKey(&'static str),
    /// `patchStrategy:"merge"` on a list of scalars: union.
    MergePrimitive,
}

/// How server-side apply treats a list (`+listType`, `+listMapKey`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ssa {
    Atomic,
    Set,
    Map(&'static [&'static str]),
}

/// A list type: its two merge behaviours and its item type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListTy {
    pub smp: Smp,
    pub ssa: Ssa,
    pub item: &'static Ty,
}

/// The type of a JSON value, as far as merging cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// A struct or map whose fields merge one by one; lists below it are atomic unless the
    /// struct is described in the table.
    Struct(S),
    /// A struct or map owned and replaced as a whole by server-side apply
    /// (`+structType=atomic`, `+mapType=atomic`). Strategic merge patch still merges it.
    Atomic,
    List(ListTy),
}

/// A struct we know nothing about: fields merge, lists are atomic.
pub const PLAIN: Ty = Ty::Struct(S::Plain);
/// An atomic struct or map.
pub const ATOMIC: Ty = Ty::Atomic;

impl Ty {
    /// Type of field `name` of this struct (or of any map entry).
    pub fn field(&self, name: &str) -> Ty {
        match self {
            Ty::Struct(s) => builtin::field(*s, name),
            Ty::Atomic | Ty::List(_) => PLAIN,
        }
    }

    /// Type of this list's items; a struct we know nothing about for non-lists.
    pub fn item(&self) -> Ty {
        match self {
            Ty::List(l) => *l.item,
            _ => PLAIN,
        }
    }

    /// List behaviour, if the type is a described list. Undescribed lists are atomic / replaced.
    pub fn list(&self) -> ListTy {
        match self {
            Ty::List(l) => *l,
            _ => ListTy {
                smp: Smp::Replace,
                ssa: Ssa::Atomic,
                item: &PLAIN,
            },
        }
    }

    pub fn is_atomic(&self) -> bool {
        matches!(self, Ty::Atomic)
    }
}

/// Merge metadata for one kind of object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schema {
    root: Ty,
    builtin: bool,
}

/// Name used in the API brief; the same schema serves strategic merge and apply.
pub type StrategicSchema = Schema;

impl Schema {
    /// Schema for objects of `kind` in `api_version` (e.g. `"apps/v1"`, `"Deployment"`).
    /// Kinds outside the built-in API groups (custom resources) get a schema with only
    /// `metadata` described, and [`Schema::is_builtin`] false.
    pub fn for_kind(api_version: &str, kind: &str) -> Schema {
        let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
        Schema {
            root: Ty::Struct(builtin::root(group, kind)),
            builtin: builtin::is_builtin_group(group),
        }
    }

    /// Schema for objects we know nothing about, other than that they carry `metadata`.
    pub fn custom() -> Schema {
        Schema {
            root: Ty::Struct(S::Object),
            builtin: false,
        }
    }

    /// Whether the kind is a built-in one (upstream allows strategic merge patch only for those).
    pub fn is_builtin(&self) -> bool {
        self.builtin
    }

    pub fn root(&self) -> Ty {
        self.root
    }
}
