//! The HTTP client for the Hetzner API at `HCLOUD_ENDPOINT`.
use crate::*;

pub(crate) struct ApiError {
    pub(crate) code: String,
    pub(crate) message: String,
}

impl ApiError {
    /// The hcloud provider's wording: "<message> (<code>, <correlation>)".
    pub(crate) fn summary(&self) -> String {
        format!(
            "{} ({}, {:016x})",
            self.message,
            self.code,
            passphrase_check(&self.message) & 0xffff_ffff
        )
    }
}

pub(crate) struct Api {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    pub(crate) token: String,
}

impl Api {
    pub(crate) fn new() -> Api {
        Api {
            http: reqwest::Client::new(),
            base: std::env::var("HCLOUD_ENDPOINT")
                .ok()
                .filter(|e| !e.is_empty())
                .unwrap_or_else(|| "https://api.hetzner.cloud/v1".into())
                .trim_end_matches('/')
                .to_owned(),
            token: std::env::var("HCLOUD_TOKEN").unwrap_or_default(),
        }
    }

    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        // Like the provider: retry what Hetzner says is temporary.
        let mut wait = Duration::from_millis(200);
        for attempt in 0..12 {
            let mut req = self
                .http
                .request(method.clone(), format!("{}{path}", self.base))
                .bearer_auth(&self.token);
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    return Err(ApiError {
                        code: "connection_error".into(),
                        message: format!("request to the Hetzner API failed: {e}"),
                    });
                }
            };
            let status = resp.status();
            let v: Value = resp.json().await.unwrap_or(Value::Null);
            if status.is_success() {
                return Ok(v);
            }
            let code = v["error"]["code"].as_str().unwrap_or("unknown_error").to_owned();
            let message = v["error"]["message"]
                .as_str()
                .unwrap_or("unexpected response")
                .to_owned();
            let temporary = matches!(
                code.as_str(),
                "rate_limit_exceeded"
                    | "locked"
                    | "conflict"
                    | "resource_in_use"
                    | "server_error"
                    | "timeout"
            ) || status.as_u16() == 502;
            if !temporary || attempt == 11 {
                return Err(ApiError { code, message });
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(3));
        }
        Err(ApiError {
            code: "timeout".into(),
            message: "gave up retrying".into(),
        })
    }

    /// Waits for the action in a response, as the provider does.
    pub(crate) async fn settle(&self, resp: &Value) -> Result<(), ApiError> {
        let mut actions: Vec<Value> = vec![];
        if resp["action"].is_object() {
            actions.push(resp["action"].clone());
        }
        actions.extend(resp["actions"].as_array().cloned().unwrap_or_default());
        for a in actions {
            let Some(id) = a["id"].as_u64() else { continue };
            let mut status = a["status"].as_str().unwrap_or("success").to_owned();
            let mut last = a.clone();
            for _ in 0..600 {
                if status != "running" {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                match self
                    .call(reqwest::Method::GET, &format!("/actions/{id}"), None)
                    .await
                {
                    Ok(v) => {
                        last = v["action"].clone();
                        status = last["status"].as_str().unwrap_or("success").to_owned();
                    }
                    Err(_) => break,
                }
            }
            if status == "error" {
                return Err(ApiError {
                    code: last["error"]["code"]
                        .as_str()
                        .unwrap_or("action_failed")
                        .to_owned(),
                    message: last["error"]["message"]
                        .as_str()
                        .unwrap_or("action failed")
                        .to_owned(),
                });
            }
        }
        Ok(())
    }

    pub(crate) async fn post(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        let v = self.call(reqwest::Method::POST, path, Some(body)).await?;
        self.settle(&v).await?;
        Ok(v)
    }

    /// Deletes; "already gone" is success.
    pub(crate) async fn gone(&self, result: Result<Value, ApiError>) -> Result<(), ApiError> {
        match result {
            Ok(v) => self.settle(&v).await,
            Err(e) if e.code == "not_found" => Ok(()),
            Err(e) => Err(e),
        }
    }
}
