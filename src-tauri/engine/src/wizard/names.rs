//! Name rules the Domain step enforces locally: the operator's own domain and
//! the admin email. The pool subdomain rule is PDM's own (`pdm::names`).

fn label_problem(label: &str, what: &str) -> Option<String> {
    if label.is_empty() {
        return Some(format!(
            "The {what} has an empty part (two dots in a row, or a dot at an end)."
        ));
    }
    if label.len() > 63 {
        return Some(format!("Each part of the {what} can have at most 63 characters."));
    }
    if label.chars().any(|c| c.is_ascii_uppercase()) {
        return Some(format!("Use lower-case letters in the {what}."));
    }
    if let Some(c) = label
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        let shown = if c.is_whitespace() {
            "a space".to_owned()
        } else {
            format!("\"{c}\"")
        };
        return Some(format!(
            "The {what} can only use a–z, 0–9 and \"-\"; it contains {shown}."
        ));
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Some(format!("A part of the {what} cannot start or end with \"-\"."));
    }
    None
}

/// A domain of the operator's own, e.g. `acme.com` or `apps.acme.com`.
pub fn check_domain(domain: &str) -> Result<(), String> {
    if domain.is_empty() {
        return Err("Enter your domain, e.g. acme.com or apps.acme.com.".into());
    }
    if domain.trim() != domain {
        return Err("Remove the spaces around the domain.".into());
    }
    let d = domain.strip_suffix('.').unwrap_or(domain);
    if d.contains("://") || d.contains('/') {
        return Err("Enter only the domain name, without https:// or a path.".into());
    }
    if d.len() > 253 {
        return Err("A domain can have at most 253 characters.".into());
    }
    let labels: Vec<&str> = d.split('.').collect();
    if labels.len() < 2 {
        return Err("Enter a full domain with at least one dot, e.g. acme.com.".into());
    }
    for l in &labels {
        if let Some(m) = label_problem(l, "domain") {
            return Err(m);
        }
    }
    let tld = labels[labels.len() - 1];
    if tld.chars().all(|c| c.is_ascii_digit()) {
        return Err("That looks like an IP address; enter a domain name.".into());
    }
    Ok(())
}

/// The admin email: Let's Encrypt account and handover address.
pub fn check_email(email: &str) -> Result<(), String> {
    let e = email.trim();
    if e.is_empty() {
        return Err("Enter the admin email; it receives certificate notices and the handover.".into());
    }
    if e.chars().any(char::is_whitespace) {
        return Err("An email address cannot contain spaces.".into());
    }
    let Some((local, host)) = e.rsplit_once('@') else {
        return Err(format!("\"{e}\" is not an email address: it has no \"@\"."));
    };
    if local.is_empty() || local.contains('@') || local.len() > 64 {
        return Err(format!("\"{e}\" is not an email address."));
    }
    if check_domain(&host.to_ascii_lowercase()).is_err() {
        return Err(format!("The part after \"@\" in \"{e}\" is not a domain."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains() {
        let cases: &[(&str, Option<&str>)] = &[
            ("acme.com", None),
            ("apps.acme.com", None),
            ("1password.com", None),
            ("xn--bcher-kva.example", None),
            ("acme.com.", None),
            ("", Some("Enter your domain, e.g. acme.com or apps.acme.com.")),
            (
                "acme",
                Some("Enter a full domain with at least one dot, e.g. acme.com."),
            ),
            (" acme.com", Some("Remove the spaces around the domain.")),
            (
                "https://acme.com",
                Some("Enter only the domain name, without https:// or a path."),
            ),
            (
                "acme..com",
                Some("The domain has an empty part (two dots in a row, or a dot at an end)."),
            ),
            ("ACME.com", Some("Use lower-case letters in the domain.")),
            (
                "10.0.0.1",
                Some("That looks like an IP address; enter a domain name."),
            ),
            (
                "-acme.com",
                Some("A part of the domain cannot start or end with \"-\"."),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(check_domain(input).err().as_deref(), *want, "input {input:?}");
        }
        let long = format!("{}.com", vec!["a".repeat(60); 5].join("."));
        assert_eq!(
            check_domain(&long).unwrap_err(),
            "A domain can have at most 253 characters."
        );
    }

    #[test]
    fn emails() {
        let cases: &[(&str, Option<&str>)] = &[
            ("platform@omantel.om", None),
            ("first.last+tag@mail.example.com", None),
            (
                "",
                Some("Enter the admin email; it receives certificate notices and the handover."),
            ),
            (
                "platform",
                Some("\"platform\" is not an email address: it has no \"@\"."),
            ),
            ("@omantel.om", Some("\"@omantel.om\" is not an email address.")),
            (
                "a@b@omantel.om",
                Some("\"a@b@omantel.om\" is not an email address."),
            ),
            (
                "platform@omantel",
                Some("The part after \"@\" in \"platform@omantel\" is not a domain."),
            ),
            (
                "plat form@omantel.om",
                Some("An email address cannot contain spaces."),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(check_email(input).err().as_deref(), *want, "input {input:?}");
        }
    }
}
