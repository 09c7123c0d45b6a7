//! Dynamic values as they cross the plugin protocol (cty as msgpack or
//! JSON), the stand-in's schema language, and the generic plan helpers.

use std::collections::BTreeMap;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value as Json;
use tf_provider::schema::{Attribute, AttributeConstraint, AttributeType, Block, NestedBlock};

#[derive(Clone, Debug, PartialEq)]
pub enum V {
    Null,
    Unknown,
    Bool(bool),
    Num(i64),
    Str(String),
    List(Vec<V>),
    Map(BTreeMap<String, V>),
}

static NULL: V = V::Null;

impl V {
    pub fn get(&self, k: &str) -> &V {
        match self {
            V::Map(m) => m.get(k).unwrap_or(&NULL),
            _ => &NULL,
        }
    }
    pub fn set(&mut self, k: &str, v: V) {
        if let V::Map(m) = self {
            m.insert(k.to_owned(), v);
        }
    }
    pub fn str(&self) -> Option<&str> {
        match self {
            V::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn num(&self) -> Option<i64> {
        match self {
            V::Num(n) => Some(*n),
            V::Str(s) => s.parse().ok(),
            _ => None,
        }
    }
    pub fn bool(&self) -> Option<bool> {
        match self {
            V::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn list(&self) -> &[V] {
        match self {
            V::List(l) => l,
            _ => &[],
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self, V::Null)
    }
    pub fn is_unknown(&self) -> bool {
        matches!(self, V::Unknown)
    }
    /// Known all the way down.
    pub fn wholly_known(&self) -> bool {
        match self {
            V::Unknown => false,
            V::List(l) => l.iter().all(V::wholly_known),
            V::Map(m) => m.values().all(V::wholly_known),
            _ => true,
        }
    }
    pub fn s(s: impl Into<String>) -> V {
        V::Str(s.into())
    }
    pub fn opt_s(s: Option<&str>) -> V {
        s.map(V::s).unwrap_or(V::Null)
    }
    pub fn from_json(j: &Json) -> V {
        match j {
            Json::Null => V::Null,
            Json::Bool(b) => V::Bool(*b),
            Json::Number(n) => V::Num(n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)).unwrap_or(0)),
            Json::String(s) => V::Str(s.clone()),
            Json::Array(a) => V::List(a.iter().map(V::from_json).collect()),
            Json::Object(o) => V::Map(o.iter().map(|(k, v)| (k.clone(), V::from_json(v))).collect()),
        }
    }
    pub fn to_json(&self) -> Json {
        match self {
            V::Null | V::Unknown => Json::Null,
            V::Bool(b) => Json::Bool(*b),
            V::Num(n) => Json::from(*n),
            V::Str(s) => Json::String(s.clone()),
            V::List(l) => Json::Array(l.iter().map(V::to_json).collect()),
            V::Map(m) => Json::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
        }
    }
}

// ---------------------------------------------------------------- serde

/// Any value Terraform sends, decoded without a schema: msgpack extension
/// values (cty's unknown) become `V::Unknown`, and serialize back as
/// extension 0, the way tf-provider encodes unknowns.
#[derive(Clone, Debug, PartialEq)]
pub struct Dyn(pub V);

impl Default for Dyn {
    fn default() -> Self {
        Dyn(V::Null)
    }
}

struct Bytes<'a>(&'a [u8]);
impl Serialize for Bytes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

impl Serialize for V {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            V::Null => s.serialize_unit(),
            V::Unknown => s.serialize_newtype_struct("_ExtStruct", &(0i8, Bytes(&[]))),
            V::Bool(b) => s.serialize_bool(*b),
            V::Num(n) => s.serialize_i64(*n),
            V::Str(x) => s.serialize_str(x),
            V::List(l) => {
                let mut seq = s.serialize_seq(Some(l.len()))?;
                for e in l {
                    seq.serialize_element(e)?;
                }
                seq.end()
            }
            V::Map(m) => {
                let mut mp = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    mp.serialize_entry(k, v)?;
                }
                mp.end()
            }
        }
    }
}

impl Serialize for Dyn {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

struct VVisitor;

impl<'de> Visitor<'de> for VVisitor {
    type Value = V;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a cty value")
    }
    fn visit_unit<E>(self) -> Result<V, E> {
        Ok(V::Null)
    }
    fn visit_none<E>(self) -> Result<V, E> {
        Ok(V::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V, D::Error> {
        d.deserialize_any(VVisitor)
    }
    fn visit_bool<E>(self, b: bool) -> Result<V, E> {
        Ok(V::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<V, E> {
        Ok(V::Num(n))
    }
    fn visit_u64<E>(self, n: u64) -> Result<V, E> {
        Ok(V::Num(n as i64))
    }
    fn visit_f64<E>(self, n: f64) -> Result<V, E> {
        Ok(V::Num(n as i64))
    }
    fn visit_str<E>(self, x: &str) -> Result<V, E> {
        Ok(V::Str(x.to_owned()))
    }
    fn visit_string<E>(self, x: String) -> Result<V, E> {
        Ok(V::Str(x))
    }
    fn visit_bytes<E>(self, x: &[u8]) -> Result<V, E> {
        Ok(V::Str(String::from_utf8_lossy(x).into_owned()))
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V, D::Error> {
        // rmp-serde hands msgpack extensions over as `_ExtStruct`.
        serde::de::IgnoredAny::deserialize(d)?;
        Ok(V::Unknown)
    }
    fn visit_seq<A2: SeqAccess<'de>>(self, mut seq: A2) -> Result<V, A2::Error> {
        let mut out = Vec::new();
        while let Some(e) = seq.next_element::<Dyn>()? {
            out.push(e.0);
        }
        Ok(V::List(out))
    }
    fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<V, M::Error> {
        let mut out = BTreeMap::new();
        while let Some((k, v)) = m.next_entry::<String, Dyn>()? {
            out.insert(k, v.0);
        }
        Ok(V::Map(out))
    }
}

impl<'de> Deserialize<'de> for Dyn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Dyn, D::Error> {
        d.deserialize_any(VVisitor).map(Dyn)
    }
}

pub fn map(pairs: Vec<(&str, V)>) -> V {
    V::Map(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

// ---------------------------------------------------------------- schema

#[derive(Clone, Debug, PartialEq)]
pub enum Ty {
    Str,
    Num,
    Bool,
    List(Box<Ty>),
    Set(Box<Ty>),
    Map(Box<Ty>),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum C {
    Req,
    Opt,
    Comp,
    OptComp,
}

#[derive(Clone, Debug)]
pub struct A {
    pub name: &'static str,
    pub ty: Ty,
    pub c: C,
    pub force_new: bool,
    pub sensitive: bool,
    pub default: Option<V>,
}

impl A {
    pub fn fnew(mut self) -> A {
        self.force_new = true;
        self
    }
    pub fn def(mut self, v: V) -> A {
        self.default = Some(v);
        self
    }
    pub fn sens(mut self) -> A {
        self.sensitive = true;
        self
    }
    pub fn computed(&self) -> bool {
        matches!(self.c, C::Comp | C::OptComp)
    }
}

pub fn a(name: &'static str, ty: Ty, c: C) -> A {
    A {
        name,
        ty,
        c,
        force_new: false,
        sensitive: false,
        default: None,
    }
}

pub fn list(t: Ty) -> Ty {
    Ty::List(Box::new(t))
}
pub fn set(t: Ty) -> Ty {
    Ty::Set(Box::new(t))
}
pub fn map_of(t: Ty) -> Ty {
    Ty::Map(Box::new(t))
}

/// Attribute with a default: optional+computed, the default planned when
/// the configuration leaves it out (the real provider's SDK `Default`).
pub fn with_default(name: &'static str, ty: Ty, v: V) -> A {
    a(name, ty, C::OptComp).def(v)
}

pub fn labels() -> A {
    with_default("labels", map_of(Ty::Str), V::Map(BTreeMap::new()))
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum N {
    /// A list block of at most one element (SDK `TypeList` + `MaxItems: 1`).
    List1,
    Set,
}

#[derive(Clone, Debug, Default)]
pub struct Blk {
    pub attrs: Vec<A>,
    pub blocks: Vec<(&'static str, N, Blk)>,
}

impl Blk {
    pub fn new(attrs: Vec<A>) -> Blk {
        Blk {
            attrs,
            blocks: vec![],
        }
    }
    pub fn block(mut self, name: &'static str, n: N, b: Blk) -> Blk {
        self.blocks.push((name, n, b));
        self
    }
    pub fn to_tf(&self) -> Block {
        Block {
            attributes: self
                .attrs
                .iter()
                .map(|a| {
                    (
                        a.name.to_owned(),
                        Attribute {
                            attr_type: ty_tf(&a.ty),
                            description: a.name.into(),
                            constraint: match a.c {
                                C::Req => AttributeConstraint::Required,
                                C::Opt => AttributeConstraint::Optional,
                                C::Comp => AttributeConstraint::Computed,
                                C::OptComp => AttributeConstraint::OptionalComputed,
                            },
                            sensitive: a.sensitive,
                            deprecated: false,
                        },
                    )
                })
                .collect(),
            blocks: self
                .blocks
                .iter()
                .map(|(n, nest, b)| {
                    let tb = b.to_tf();
                    (
                        (*n).to_owned(),
                        match nest {
                            N::List1 => NestedBlock::Optional(tb),
                            N::Set => NestedBlock::Set(tb),
                        },
                    )
                })
                .collect(),
            ..Default::default()
        }
    }

    /// Every attribute and block present (null / empty list when missing),
    /// nothing else: the object shape Terraform decodes against the schema.
    pub fn conform(&self, v: &V) -> V {
        let mut out = BTreeMap::new();
        for a in &self.attrs {
            out.insert(a.name.to_owned(), v.get(a.name).clone());
        }
        for (n, _, b) in &self.blocks {
            let items = match v.get(n) {
                V::Unknown => V::Unknown,
                x => V::List(x.list().iter().map(|e| b.conform(e)).collect()),
            };
            out.insert((*n).to_owned(), items);
        }
        V::Map(out)
    }
}

fn ty_tf(t: &Ty) -> AttributeType {
    match t {
        Ty::Str => AttributeType::String,
        Ty::Num => AttributeType::Number,
        Ty::Bool => AttributeType::Bool,
        Ty::List(t) => AttributeType::List(Box::new(ty_tf(t))),
        Ty::Set(t) => AttributeType::Set(Box::new(ty_tf(t))),
        Ty::Map(t) => AttributeType::Map(Box::new(ty_tf(t))),
    }
}

/// Equality as the type sees it: sets ignore order.
pub fn typed_eq(t: &Ty, a: &V, b: &V) -> bool {
    match (t, a, b) {
        (Ty::Set(_), V::List(x), V::List(y)) => {
            let mut x: Vec<String> = x.iter().map(|v| format!("{v:?}")).collect();
            let mut y: Vec<String> = y.iter().map(|v| format!("{v:?}")).collect();
            x.sort();
            y.sort();
            x == y
        }
        _ => a == b,
    }
}

// ---------------------------------------------------------------- planning

/// A new nested element (no prior to take computed values from): computed
/// attributes left null become their default or unknown.
fn plan_new_element(b: &Blk, e: &V) -> V {
    let mut out = b.conform(e);
    for a in &b.attrs {
        if out.get(a.name).is_null() {
            if let Some(d) = &a.default {
                out.set(a.name, d.clone());
            } else if a.computed() {
                out.set(a.name, V::Unknown);
            }
        }
    }
    for (n, _, nb) in &b.blocks {
        let items = out
            .get(n)
            .list()
            .iter()
            .map(|x| plan_new_element(nb, x))
            .collect();
        out.set(n, V::List(items));
    }
    out
}

/// Whether prior element `p` can be the one config element `e` stands for:
/// every value the configuration sets (not computed-only) is the same.
fn correlates(b: &Blk, e: &V, p: &V) -> bool {
    b.attrs.iter().all(|a| {
        let ev = e.get(a.name);
        a.c == C::Comp || ev.is_null() || typed_eq(&a.ty, ev, p.get(a.name))
    })
}

/// A nested element with its prior: null computed attributes take the
/// prior's value, then defaults.
fn plan_kept_element(b: &Blk, e: &V, p: &V) -> V {
    let mut out = b.conform(e);
    for a in &b.attrs {
        if out.get(a.name).is_null() {
            if a.computed() && !p.get(a.name).is_null() && a.default.is_none() {
                out.set(a.name, p.get(a.name).clone());
            } else if let Some(d) = &a.default {
                out.set(a.name, d.clone());
            } else if a.computed() {
                out.set(a.name, p.get(a.name).clone());
            }
        }
    }
    for (n, nest, nb) in &b.blocks {
        let items = plan_blocks(nb, *nest, out.get(n), p.get(n));
        out.set(n, items);
    }
    out
}

fn plan_blocks(b: &Blk, nest: N, proposed: &V, prior: &V) -> V {
    if proposed.is_unknown() {
        return V::Unknown;
    }
    let priors = prior.list();
    let mut used = vec![false; priors.len()];
    let mut out = Vec::new();
    for (i, e) in proposed.list().iter().enumerate() {
        let found = match nest {
            N::List1 => priors.get(i).map(|_| i),
            N::Set => (0..priors.len()).find(|j| !used[*j] && correlates(b, e, &priors[*j])),
        };
        match found {
            Some(j) => {
                used[j] = true;
                out.push(plan_kept_element(b, e, &priors[j]));
            }
            None => out.push(plan_new_element(b, e)),
        }
    }
    V::List(out)
}

/// Planned state of a new object from Terraform's proposal.
pub fn plan_create(b: &Blk, proposed: &V) -> V {
    let mut out = b.conform(proposed);
    for a in &b.attrs {
        if out.get(a.name).is_null() {
            if let Some(d) = &a.default {
                out.set(a.name, d.clone());
            } else if a.computed() {
                out.set(a.name, V::Unknown);
            }
        }
    }
    for (n, _, nb) in &b.blocks {
        let items = match out.get(n) {
            V::Unknown => V::Unknown,
            x => V::List(x.list().iter().map(|e| plan_new_element(nb, e)).collect()),
        };
        out.set(n, items);
    }
    out
}

/// Planned state of an existing object, and the force-new attributes that
/// differ (the engine then plans a replacement).
pub fn plan_update(b: &Blk, prior: &V, proposed: &V, config: &V) -> (V, Vec<&'static str>) {
    let mut out = b.conform(proposed);
    for a in &b.attrs {
        if config.get(a.name).is_null() {
            if let Some(d) = &a.default {
                out.set(a.name, d.clone());
            }
        }
    }
    for (n, nest, nb) in &b.blocks {
        let items = plan_blocks(nb, *nest, out.get(n), prior.get(n));
        out.set(n, items);
    }
    let replace = b
        .attrs
        .iter()
        .filter(|a| a.force_new && !typed_eq(&a.ty, out.get(a.name), prior.get(a.name)))
        .map(|a| a.name)
        .collect();
    (out, replace)
}

/// The state after an apply: the plan's known values, and for what it left
/// unknown the values the API reports (Terraform insists the two agree).
pub fn fill_unknowns(b: &Blk, planned: &V, actual: &V) -> V {
    let mut out = b.conform(planned);
    for a in &b.attrs {
        let p = out.get(a.name);
        if !p.wholly_known() {
            let v = actual.get(a.name).clone();
            out.set(a.name, v);
        }
    }
    for (n, nest, nb) in &b.blocks {
        let actual_items = actual.get(n).list();
        let items = match out.get(n) {
            V::Unknown => V::List(actual_items.iter().map(|e| nb.conform(e)).collect()),
            planned_items => {
                let mut used = vec![false; actual_items.len()];
                let mut res = Vec::new();
                for (i, e) in planned_items.list().iter().enumerate() {
                    let found = match nest {
                        N::List1 => actual_items.get(i).map(|_| i),
                        N::Set => (0..actual_items.len()).find(|j| {
                            !used[*j]
                                && nb.attrs.iter().all(|a| {
                                    let pv = e.get(a.name);
                                    !pv.wholly_known() || typed_eq(&a.ty, pv, actual_items[*j].get(a.name))
                                })
                        }),
                    };
                    match found {
                        Some(j) => {
                            used[j] = true;
                            res.push(fill_unknowns(nb, e, &actual_items[j]));
                        }
                        None => res.push(fill_unknowns(nb, e, &V::Null)),
                    }
                }
                V::List(res)
            }
        };
        out.set(n, items);
    }
    out
}
