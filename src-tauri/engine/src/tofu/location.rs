//! Hetzner locations the module supports and their network zones.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Location {
    Fsn1,
    Nbg1,
    Hel1,
    Ash,
    Hil,
    Sin,
}

impl Location {
    pub const ALL: [Location; 6] = [
        Location::Fsn1,
        Location::Nbg1,
        Location::Hel1,
        Location::Ash,
        Location::Hil,
        Location::Sin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Location::Fsn1 => "fsn1",
            Location::Nbg1 => "nbg1",
            Location::Hel1 => "hel1",
            Location::Ash => "ash",
            Location::Hil => "hil",
            Location::Sin => "sin",
        }
    }

    /// hel1 is eu-central: "eu-north" does not exist and fails the subnet.
    pub fn network_zone(self) -> &'static str {
        match self {
            Location::Fsn1 | Location::Nbg1 | Location::Hel1 => "eu-central",
            Location::Ash => "us-east",
            Location::Hil => "us-west",
            Location::Sin => "ap-southeast",
        }
    }

    pub fn parse(s: &str) -> Option<Location> {
        Location::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_follow_hetzner_table() {
        let zones: Vec<_> = Location::ALL
            .iter()
            .map(|l| (l.as_str(), l.network_zone()))
            .collect();
        assert_eq!(
            zones,
            [
                ("fsn1", "eu-central"),
                ("nbg1", "eu-central"),
                ("hel1", "eu-central"),
                ("ash", "us-east"),
                ("hil", "us-west"),
                ("sin", "ap-southeast")
            ]
        );
        assert_eq!(Location::parse("hel1"), Some(Location::Hel1));
        assert_eq!(Location::parse("eu-north"), None);
    }

    #[test]
    fn module_zone_table_matches_this_one() {
        let main = super::super::module::file("main.tf").unwrap_or_default();
        for l in Location::ALL {
            let line = format!("{:<4} = \"{}\"", l.as_str(), l.network_zone());
            assert!(main.contains(&line), "main.tf lacks `{line}`");
        }
    }
}
