//! A small Hetzner Cloud API client: bearer token, JSON, Hetzner's error
//! object, retries where hcloud-go retries, and waiting on actions.

use std::time::Duration;

use serde_json::Value;

#[derive(Clone)]
pub struct Client {
    pub endpoint: String,
    pub token: String,
    pub poll: Duration,
    http: reqwest::Client,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// Method and path, e.g. `POST /servers`.
    pub request: String,
}

impl ApiError {
    pub fn is(&self, code: &str) -> bool {
        self.code == code
    }
    pub fn not_found(&self) -> bool {
        self.status == 404 || self.code == "not_found"
    }
    /// Summary as hcloud-go's `Error()` renders it: `<message> (<code>)`.
    pub fn summary(&self) -> String {
        format!("{} ({})", self.message, self.code)
    }
    /// Detail in the shape of the real provider's API error diagnostic.
    pub fn detail(&self) -> String {
        format!(
            "An unexpected error was encountered while doing the request to {}.\n{}\n\nError code: {}",
            self.request, self.message, self.code
        )
    }
    pub fn other(request: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: 0,
            code: "provider_error".into(),
            message: message.into(),
            request: request.to_owned(),
        }
    }
}

pub type R<T> = Result<T, ApiError>;

impl Client {
    pub fn new(endpoint: String, token: String, poll: Duration) -> Client {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .user_agent("terraform-provider-hcloud/1.52.0 (catalyst stand-in)")
            .build()
            .expect("http client");
        Client {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            token,
            poll,
            http,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> R<Value> {
        let what = format!("{method} {path}");
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let mut req = self
                .http
                .request(method.clone(), format!("{}{}", self.endpoint, path))
                .bearer_auth(&self.token);
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    if attempt < 5 {
                        tokio::time::sleep(Duration::from_millis(200 * attempt as u64)).await;
                        continue;
                    }
                    return Err(ApiError::other(&what, format!("request failed: {e}")));
                }
            };
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap_or_default();
            if (200..300).contains(&status) {
                return Ok(if text.trim().is_empty() {
                    Value::Null
                } else {
                    serde_json::from_str(&text).unwrap_or(Value::Null)
                });
            }
            let parsed: Option<Value> = serde_json::from_str(&text).ok();
            let err = match parsed.as_ref().map(|v| &v["error"]) {
                Some(e) if e.is_object() => ApiError {
                    status,
                    code: e["code"].as_str().unwrap_or("unknown").to_owned(),
                    message: e["message"].as_str().unwrap_or("").to_owned(),
                    request: what.clone(),
                },
                _ => ApiError {
                    status,
                    code: "unknown_error".into(),
                    message: format!("server responded with status code {status}"),
                    request: what.clone(),
                },
            };
            // hcloud-go retries rate limits, conflicts, locks and server errors.
            let retry = status == 429
                || status >= 500
                || matches!(err.code.as_str(), "conflict" | "locked" | "rate_limit_exceeded");
            if retry && attempt < 5 {
                tokio::time::sleep(Duration::from_millis(100 * (1 << attempt))).await;
                continue;
            }
            return Err(err);
        }
    }

    pub async fn get(&self, path: &str) -> R<Value> {
        self.call(reqwest::Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: &Value) -> R<Value> {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }
    pub async fn put(&self, path: &str, body: &Value) -> R<Value> {
        self.call(reqwest::Method::PUT, path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> R<Value> {
        self.call(reqwest::Method::DELETE, path, None).await
    }

    /// GET that maps 404 to None.
    pub async fn get_opt(&self, path: &str) -> R<Option<Value>> {
        match self.get(path).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Waits for one action to finish; its error becomes ours.
    pub async fn wait_action(&self, action: &Value) -> R<()> {
        let Some(id) = action["id"].as_u64() else {
            return Ok(());
        };
        loop {
            let a = self.get(&format!("/actions/{id}")).await?;
            let a = &a["action"];
            match a["status"].as_str() {
                Some("success") => return Ok(()),
                Some("error") => {
                    return Err(ApiError {
                        status: 0,
                        code: a["error"]["code"].as_str().unwrap_or("action_failed").to_owned(),
                        message: format!(
                            "action {id} failed: {}",
                            a["error"]["message"].as_str().unwrap_or("")
                        ),
                        request: format!("GET /actions/{id}"),
                    });
                }
                _ => tokio::time::sleep(self.poll).await,
            }
        }
    }

    /// Waits for `action`, `actions` and `next_actions` of a response.
    pub async fn wait_all(&self, resp: &Value) -> R<()> {
        if resp["action"].is_object() {
            self.wait_action(&resp["action"]).await?;
        }
        for key in ["actions", "next_actions"] {
            for a in resp[key].as_array().cloned().unwrap_or_default() {
                self.wait_action(&a).await?;
            }
        }
        Ok(())
    }

    /// POST `/<coll>/<id>/actions/<action>` and wait for it.
    pub async fn action(&self, coll: &str, id: &str, action: &str, body: Value) -> R<Value> {
        let resp = self
            .post(&format!("/{coll}/{id}/actions/{action}"), &body)
            .await?;
        self.wait_all(&resp).await?;
        Ok(resp)
    }
}
