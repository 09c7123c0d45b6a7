//! The component catalog (embedded `catalog.json`) and its selection rules:
//! dependencies are transitive, anything a mandatory component needs is
//! itself mandatory, adding a member of a cascading family adds the family,
//! and removing a component removes what depends on it (never a mandatory one).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Mandatory,
    Recommended,
    Optional,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Footprint {
    pub memory_mib: u32,
    pub cpu_millis: u32,
}

impl std::ops::Add for Footprint {
    type Output = Footprint;
    fn add(self, o: Footprint) -> Footprint {
        Footprint {
            memory_mib: self.memory_mib + o.memory_mib,
            cpu_millis: self.cpu_millis + o.cpu_millis,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Family {
    pub id: String,
    pub name: String,
    pub subtitle: String,
    pub tier: Tier,
    /// Selecting any member selects the whole family (CORTEX).
    pub cascade_on_member_selection: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Component {
    pub id: String,
    pub name: String,
    pub description: String,
    pub family: String,
    /// After promotion: a dependency of a mandatory component is mandatory.
    pub tier: Tier,
    pub dependencies: Vec<String>,
    pub footprint: Footprint,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Catalog {
    /// Date of the catalog data.
    pub version: String,
    pub families: Vec<Family>,
    pub components: Vec<Component>,
}

const CATALOG_JSON: &str = include_str!("catalog.json");

/// The embedded catalog, parsed and promoted once.
pub fn catalog() -> &'static Catalog {
    static CAT: OnceLock<Catalog> = OnceLock::new();
    CAT.get_or_init(|| {
        let mut c: Catalog =
            serde_json::from_str(CATALOG_JSON).expect("embedded catalog.json is valid (tested)");
        promote_mandatory(&mut c);
        c
    })
}

fn promote_mandatory(c: &mut Catalog) {
    let deps: BTreeMap<String, Vec<String>> = c
        .components
        .iter()
        .map(|x| (x.id.clone(), x.dependencies.clone()))
        .collect();
    let roots: Vec<String> = c
        .components
        .iter()
        .filter(|x| x.tier == Tier::Mandatory)
        .map(|x| x.id.clone())
        .collect();
    let closure = closure_of(&deps, roots);
    for comp in &mut c.components {
        if closure.contains(&comp.id) {
            comp.tier = Tier::Mandatory;
        }
    }
}

fn closure_of(
    deps: &BTreeMap<String, Vec<String>>,
    roots: impl IntoIterator<Item = String>,
) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<String> = roots.into_iter().collect();
    while let Some(id) = queue.pop_front() {
        if seen.insert(id.clone()) {
            for d in deps.get(&id).into_iter().flatten() {
                queue.push_back(d.clone());
            }
        }
    }
    seen
}

impl Catalog {
    pub fn get(&self, id: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.id == id)
    }

    fn family(&self, id: &str) -> Option<&Family> {
        self.families.iter().find(|f| f.id == id)
    }

    fn deps_map(&self) -> BTreeMap<String, Vec<String>> {
        self.components
            .iter()
            .map(|c| (c.id.clone(), c.dependencies.clone()))
            .collect()
    }

    pub fn mandatory(&self) -> BTreeSet<String> {
        self.components
            .iter()
            .filter(|c| c.tier == Tier::Mandatory)
            .map(|c| c.id.clone())
            .collect()
    }

    /// Every mandatory and recommended component with their dependencies.
    pub fn default_selection(&self) -> Vec<String> {
        let roots = self
            .components
            .iter()
            .filter(|c| c.tier != Tier::Optional)
            .map(|c| c.id.clone());
        closure_of(&self.deps_map(), roots).into_iter().collect()
    }

    /// The transitive dependencies of `ids` (including `ids`).
    pub fn closure(&self, ids: impl IntoIterator<Item = String>) -> BTreeSet<String> {
        closure_of(&self.deps_map(), ids)
    }

    /// Adds `id` and everything it needs; a newly added member of a cascading
    /// family brings its whole family. Returns the new selection and what was
    /// added besides `id`.
    pub fn add(&self, selected: &[String], id: &str) -> Result<Selection, String> {
        if self.get(id).is_none() {
            return Err(format!("There is no component called \"{id}\"."));
        }
        let before: BTreeSet<String> = selected.iter().cloned().collect();
        let mut now = before.clone();
        let mut queue = vec![id.to_owned()];
        while let Some(next) = queue.pop() {
            let added: Vec<String> = self
                .closure([next])
                .into_iter()
                .filter(|x| !now.contains(x))
                .collect();
            for a in added {
                now.insert(a.clone());
                if let Some(fam) = self.get(&a).and_then(|c| self.family(&c.family))
                    && fam.cascade_on_member_selection
                    && fam.tier != Tier::Mandatory
                {
                    for m in self.components.iter().filter(|c| c.family == fam.id) {
                        if !now.contains(&m.id) {
                            queue.push(m.id.clone());
                        }
                    }
                }
            }
        }
        let also: Vec<String> = now.difference(&before).filter(|x| *x != id).cloned().collect();
        Ok(Selection {
            selected: now.into_iter().collect(),
            also_changed: also,
        })
    }

    /// What removing `id` would take with it: `id` and every selected
    /// component that depends on it, directly or not. Mandatory ones refuse.
    pub fn removal(&self, selected: &[String], id: &str) -> Result<Selection, String> {
        let comp = self
            .get(id)
            .ok_or_else(|| format!("There is no component called \"{id}\"."))?;
        if comp.tier == Tier::Mandatory {
            return Err(format!(
                "{} is mandatory: the platform always installs it.",
                comp.name
            ));
        }
        let sel: BTreeSet<String> = selected.iter().cloned().collect();
        let mut gone = BTreeSet::from([id.to_owned()]);
        loop {
            let more: Vec<String> = sel
                .iter()
                .filter(|s| !gone.contains(*s))
                .filter(|s| {
                    self.get(s).is_some_and(|c| {
                        c.tier != Tier::Mandatory && c.dependencies.iter().any(|d| gone.contains(d))
                    })
                })
                .cloned()
                .collect();
            if more.is_empty() {
                break;
            }
            gone.extend(more);
        }
        let also = gone.iter().filter(|x| *x != id).cloned().collect();
        let selected = sel.difference(&gone).cloned().collect();
        Ok(Selection {
            selected,
            also_changed: also,
        })
    }

    /// Sum of the resource requests of the given components.
    pub fn footprint(&self, selected: &[String]) -> Footprint {
        selected
            .iter()
            .filter_map(|id| self.get(id))
            .fold(Footprint::default(), |acc, c| acc + c.footprint)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Selection {
    pub selected: Vec<String>,
    /// Added by dependency/cascade (add) or taken along (removal), besides the one asked for.
    pub also_changed: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn catalog_is_consistent() {
        let c = catalog();
        assert_eq!(c.components.len(), 63);
        assert_eq!(c.families.len(), 9);
        let known: BTreeSet<_> = c.components.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(known.len(), 63, "ids are unique");
        for comp in &c.components {
            assert!(
                c.family(&comp.family).is_some(),
                "{} has an unknown family",
                comp.id
            );
            for d in &comp.dependencies {
                assert!(known.contains(d.as_str()), "{} depends on unknown {d}", comp.id);
            }
            let words = comp.description.split_whitespace().count();
            assert!(
                (4..=12).contains(&words),
                "{}: description of {words} words",
                comp.id
            );
        }
    }

    #[test]
    fn dependencies_of_mandatory_components_are_promoted() {
        let c = catalog();
        let m = c.mandatory();
        assert!(
            m.contains("cnpg") && m.contains("valkey"),
            "harbor/gitea need them"
        );
        assert_eq!(m.len(), 24);
        assert_eq!(c.get("cnpg").unwrap().tier, Tier::Mandatory);
    }

    #[test]
    fn default_selection_is_mandatory_plus_recommended() {
        let d = catalog().default_selection();
        assert_eq!(d.len(), 44);
        assert!(d.contains(&"keycloak".to_string()) && !d.contains(&"specter".to_string()));
    }

    #[test]
    fn harbor_brings_nothing_new_from_the_default() {
        let c = catalog();
        let sel = c.default_selection();
        let r = c.add(&sel, "harbor").unwrap();
        assert!(r.also_changed.is_empty());
    }

    #[test]
    fn specter_cascades_into_the_cortex_family_and_its_dependencies() {
        let c = catalog();
        let r = c.add(&c.default_selection(), "specter").unwrap();
        let also: BTreeSet<_> = r.also_changed.iter().map(String::as_str).collect();
        let want: BTreeSet<_> = [
            "bge",
            "milvus",
            "langfuse",
            "vllm",
            "knative",
            "neo4j",
            "librechat",
            "ferretdb",
        ]
        .into_iter()
        .collect();
        assert_eq!(also, want);
    }

    #[test]
    fn a_single_cortex_member_adds_the_whole_family() {
        let c = catalog();
        let r = c.add(&c.default_selection(), "librechat").unwrap();
        for id in [
            "knative", "neo4j", "vllm", "milvus", "bge", "langfuse", "ferretdb",
        ] {
            assert!(r.selected.contains(&id.to_string()), "{id} missing");
        }
        assert!(
            !r.selected.contains(&"specter".to_string()),
            "specter is INSIGHTS, not CORTEX"
        );
    }

    #[test]
    fn temporal_adds_only_itself() {
        let c = catalog();
        let r = c.add(&c.default_selection(), "temporal").unwrap();
        assert!(r.also_changed.is_empty());
    }

    #[test]
    fn removing_a_needed_component_lists_its_dependents() {
        let c = catalog();
        let sel = c.default_selection();
        let r = c.removal(&sel, "strimzi").unwrap();
        assert_eq!(r.also_changed, ids(&["debezium"]));
        assert!(!r.selected.contains(&"debezium".to_string()));
        // Transitive: ferretdb <- librechat.
        let with = c.add(&sel, "librechat").unwrap().selected;
        let r = c.removal(&with, "ferretdb").unwrap();
        assert!(r.also_changed.contains(&"librechat".to_string()));
    }

    #[test]
    fn mandatory_and_unknown_components_refuse() {
        let c = catalog();
        let sel = c.default_selection();
        assert_eq!(
            c.removal(&sel, "cilium").unwrap_err(),
            "Cilium is mandatory: the platform always installs it."
        );
        assert!(c.removal(&sel, "nope").is_err());
        assert!(c.add(&sel, "nope").is_err());
    }
}
