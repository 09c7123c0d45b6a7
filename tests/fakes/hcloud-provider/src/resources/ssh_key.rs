//! `hcloud_ssh_key`: its schema, and how it is read, created, updated and deleted.
use super::*;

pub(crate) fn schema() -> Blk {
    use Ty::*;
    use C::*;
    Blk::new(vec![
        id_attr(),
        a("name", Str, Req),
        a("public_key", Str, Req).fnew(),
        a("fingerprint", Str, Comp),
        labels(),
    ])
}

pub(crate) async fn read(c: &Client, st: &V) -> R<Option<V>> {
    let id = state_id(st);
    let Some(r) = c.get_opt(&format!("/ssh_keys/{id}")).await? else {
        return Ok(None);
    };
    let j = &r["ssh_key"];
    let pk = j["public_key"].as_str().unwrap_or_default();
    // The API trims the key; keep the configured spelling when equal.
    let public_key = match st.get("public_key").str() {
        Some(p) if p.trim() == pk => V::s(p),
        _ => V::s(pk),
    };
    Ok(Some(value::map(vec![
        ("id", id_of(j)),
        ("name", V::from_json(&j["name"])),
        ("public_key", public_key),
        ("fingerprint", V::from_json(&j["fingerprint"])),
        ("labels", labels_v(j)),
    ])))
}

pub(crate) async fn create(c: &Client, p: &V) -> Result<V, Partial> {
    let r = c
        .post(
            "/ssh_keys",
            &json!({"name": p.get("name").to_json(), "public_key": p.get("public_key").to_json(), "labels": labels_json(p.get("labels"))}),
        )
        .await?;
    let st = value::map(vec![
        ("id", id_of(&r["ssh_key"])),
        ("public_key", p.get("public_key").clone()),
    ]);
    Ok(read(c, &st).await?.unwrap_or(st))
}

pub(crate) async fn delete(c: &Client, st: &V) -> R<()> {
    let id = state_id(st);
    gone_ok(c.delete(&format!("/ssh_keys/{id}")).await.map(|_| ()))
}
