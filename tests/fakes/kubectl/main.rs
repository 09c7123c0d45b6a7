//! Stands in for `k3s kubectl apply -f -` on a control plane: reads the
//! manifest (JSON: one object or a `v1 List`) from stdin and applies each
//! object to the fake Kubernetes API (tests/fakes/kube.rs) the way kubectl's
//! server-side apply does (`PATCH …?fieldManager=kubectl&force=true`,
//! `application/apply-patch+yaml`), printing kubectl's `<kind>/<name>
//! serverside-applied` lines. Core v1 Namespaces and Secrets only.
//!
//! Usage: kubectl-standin --server URL --token TOKEN apply -f -

use std::io::Read;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let (Some(server), Some(token)) = (arg("--server"), arg("--token")) else {
        eprintln!("usage: kubectl-standin --server URL --token TOKEN apply -f -");
        return ExitCode::from(2);
    };
    if !args.windows(3).any(|w| w == ["apply", "-f", "-"]) {
        eprintln!("kubectl-standin: only `apply -f -` is stood in for");
        return ExitCode::from(2);
    }
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("error: reading stdin: {e}");
        return ExitCode::from(1);
    }
    let manifest: serde_json::Value = match serde_json::from_str(&input) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: error parsing STDIN: {e}");
            return ExitCode::from(1);
        }
    };
    let items = match manifest["kind"].as_str() {
        Some("List") => manifest["items"].as_array().cloned().unwrap_or_default(),
        _ => vec![manifest],
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        for item in items {
            let kind = item["kind"].as_str().unwrap_or_default();
            let name = item["metadata"]["name"].as_str().unwrap_or_default();
            let ns = item["metadata"]["namespace"].as_str().unwrap_or("default");
            let path = match kind {
                "Namespace" => format!("/api/v1/namespaces/{name}"),
                "Secret" => format!("/api/v1/namespaces/{ns}/secrets/{name}"),
                other => {
                    eprintln!("error: kubectl-standin applies Namespaces and Secrets, not {other}");
                    return ExitCode::from(1);
                }
            };
            let answer = client
                .patch(format!("{server}{path}?fieldManager=kubectl&force=true"))
                .bearer_auth(&token)
                .header("Content-Type", "application/apply-patch+yaml")
                .body(item.to_string())
                .send()
                .await;
            match answer {
                Ok(r) if r.status().is_success() => {
                    println!("{}/{name} serverside-applied", kind.to_lowercase());
                }
                Ok(r) => {
                    let status = r.status();
                    let body = r.text().await.unwrap_or_default();
                    eprintln!("error: {kind} {name}: {status}: {body}");
                    return ExitCode::from(1);
                }
                Err(e) => {
                    eprintln!("error: {server}: {e}");
                    return ExitCode::from(1);
                }
            }
        }
        ExitCode::SUCCESS
    })
}
