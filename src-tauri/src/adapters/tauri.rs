//! The window: one Tauri command (`api`) that carries every engine call, and
//! engine events streamed to the page through an IPC channel it opens with
//! `events_subscribe`. Thin by design: the rules live in the engine, the
//! command list in `api.rs`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tauri::Runtime;
use tauri::ipc::Channel;

use crate::engine::Engine;
use crate::engine::events::ProvisionEvent;

/// The channel each webview opened for engine events, by webview label: a
/// reload opens a new one, which replaces the old.
#[derive(Default)]
pub struct EventChannels(Mutex<HashMap<String, Channel<Vec<ProvisionEvent>>>>);

impl EventChannels {
    /// Sends one batch to every open channel; a channel whose page is gone is dropped.
    fn send(&self, batch: &[ProvisionEvent]) {
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        open.retain(|_, ch| ch.send(batch.to_vec()).is_ok());
    }
}

pub mod commands {
    use std::sync::Arc;

    use tauri::ipc::Channel;
    use tauri::{Runtime, State, Webview};

    use super::EventChannels;
    use crate::api::{Call, dispatch};
    use crate::engine::events::ProvisionEvent;
    use crate::engine::{ApiError, Engine};

    /// Every engine call from the window: `invoke('api', { call })`.
    #[tauri::command]
    pub async fn api(engine: State<'_, Arc<Engine>>, call: Call) -> Result<serde_json::Value, ApiError> {
        tracing::debug!(cmd = call.name(), "window call");
        dispatch(&engine, call).await
    }

    /// The page's stream of engine events. A channel, not Tauri events: an
    /// event is a script evaluated in the page, and a 100 000-line log sent
    /// that way grew the web process by ~120 MB with the page keeping nothing;
    /// a channel hands big batches over as fetched bytes.
    #[tauri::command]
    pub fn events_subscribe<R: Runtime>(
        webview: Webview<R>,
        channels: State<'_, EventChannels>,
        channel: Channel<Vec<ProvisionEvent>>,
    ) {
        let mut open = channels.0.lock().unwrap_or_else(|e| e.into_inner());
        open.insert(webview.label().to_owned(), channel);
    }

    /// A timing mark from the UI (e.g. `first-paint`), printed to stdout as
    /// `CATALYST_BENCH_MARK <name> <unix ns>` only when `CATALYST_BENCH_MARK`
    /// is set: bench/ reads it. Not an engine call, so not in `api.rs`.
    #[tauri::command]
    pub fn bench_mark(name: String) {
        if std::env::var_os("CATALYST_BENCH_MARK").is_some() {
            let ns = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            let name: String = name
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .take(40)
                .collect();
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "CATALYST_BENCH_MARK {name} {ns}");
            let _ = out.flush();
        }
    }
}

/// Refuses every navigation away from the bundled UI: no remote page is
/// ever loaded in the window.
fn is_local(url: &tauri::Url) -> bool {
    match url.scheme() {
        "tauri" => true,
        "http" | "https" => matches!(url.host_str(), Some("tauri.localhost")),
        _ => false,
    }
}

fn navigation_guard<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri::plugin::Builder::new("navigation-guard")
        .on_navigation(|_webview, url| {
            let ok = is_local(url) || cfg!(dev) && url.host_str() == Some("localhost");
            if !ok {
                tracing::warn!(%url, "blocked navigation to a non-local URL");
            }
            ok
        })
        .build()
}

/// "Save as…" for exports (key, kubeconfig, event log) and "Open…" for
/// franchise profiles: rfd's GTK dialogs, called from the engine's blocking
/// thread, never from the main one. rfd runs GTK dialogs on a GTK thread of
/// its own and waits for them; called on the window's main thread (as this
/// did first), that wait blocks the loop the dialog needs and the whole
/// window froze (tauri-apps/plugins-workspace#956). The window test opens
/// the save dialog and types a path into it through the X server. Every
/// engine call that asks for a dialog does so inside `spawn_blocking`.
struct WindowSaveDialog;

impl crate::engine::keys::SaveDialog for WindowSaveDialog {
    fn pick_save_path(&self, suggested_name: &str) -> Option<std::path::PathBuf> {
        self.pick_save_path_titled("Export the admin private key", suggested_name)
    }

    fn pick_save_path_titled(&self, title: &str, suggested_name: &str) -> Option<std::path::PathBuf> {
        rfd::FileDialog::new()
            .set_title(title)
            .set_file_name(suggested_name)
            .save_file()
    }

    // GTK's chooser asks before replacing (rfd turns its confirmation on).
    fn confirms_overwrite(&self) -> bool {
        true
    }
}

/// The desktop's browser, for "Open console": the window itself only shows
/// the app (the navigation guard keeps it local).
struct SystemBrowser;

impl crate::engine::console_open::UrlOpener for SystemBrowser {
    fn open_url(&self, url: &str) -> Result<(), String> {
        open::that_detached(url).map_err(|e| e.to_string())
    }
}

struct WindowOpenDialog;

impl crate::engine::settings::profile::OpenDialog for WindowOpenDialog {
    fn pick_open_path(&self, title: &str, extensions: &[&str]) -> Option<std::path::PathBuf> {
        rfd::FileDialog::new()
            .set_title(title)
            .add_filter("Franchise profile", extensions)
            .pick_file()
    }
}

/// Turns WebKitGTK's accelerated compositing off for the whole process before
/// any thread or GTK starts (see `paint_without_compositing` for why). The
/// per-window policy alone is applied after the page began loading, and that
/// cost start-up: A/B at load 0.5, 6 alternations, medians to first paint:
/// policy only 791 ms, this switch 632 ms, bare Tauri window 490 ms.
/// Respects a value the operator set and the `CATALYST_WEBKIT_COMPOSITING=1`
/// opt-out. Call only from `main` while the process is single-threaded.
pub fn disable_compositing_at_start() {
    if !cfg!(target_os = "linux")
        || std::env::var_os("CATALYST_WEBKIT_COMPOSITING").is_some_and(|v| v == "1")
        || std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_some()
    {
        return;
    }
    // SAFETY: called first thing in `main`, before logging, tokio or GTK
    // start any thread, so nothing reads the environment concurrently.
    unsafe { std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1") };
}

/// WebKitGTK paints the page without accelerated compositing: measured under
/// Xvfb (release build, one run each), compositing cost the web process
/// ~90 MB idle (333 → 241 MB PSS for the whole app) and most of the growth
/// after a 100 000-line log (+131 MB → +51 MB). The window is forms, lists and a log: nothing that
/// needs the GPU. It also spares the blank windows WebKitGTK's GL path gives
/// on some VMs and drivers. `CATALYST_WEBKIT_COMPOSITING=1` keeps WebKit's default.
fn paint_without_compositing<R: Runtime>(webview: &tauri::WebviewWindow<R>) {
    if std::env::var_os("CATALYST_WEBKIT_COMPOSITING").is_some_and(|v| v == "1") {
        return;
    }
    let applied = webview.with_webview(|platform| {
        #[cfg(target_os = "linux")]
        {
            use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
            if let Some(settings) = WebViewExt::settings(&platform.inner()) {
                settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
                // Read back, so the log (and the window test) shows what WebKit holds.
                let now = settings.hardware_acceleration_policy();
                tracing::info!(policy = ?now, "window hardware acceleration policy");
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = platform;
    });
    if let Err(e) = applied {
        tracing::warn!(error = %e, "could not set the window's hardware acceleration policy");
    }
}

/// Most events sent to the page in one emit.
const EVENT_BATCH_MAX: usize = 2000;

/// The window's title outside live mode (tauri.conf.json's).
const WINDOW_TITLE: &str = "Catalyst Provisioner";

/// The app, generic over the runtime so tests can use the mock runtime.
pub fn builder<R: Runtime>(b: tauri::Builder<R>, engine: Arc<Engine>) -> tauri::Builder<R> {
    let forward = engine.clone();
    b.manage(engine)
        .manage(EventChannels::default())
        .plugin(navigation_guard())
        .invoke_handler(tauri::generate_handler![
            commands::api,
            commands::events_subscribe,
            commands::bench_mark
        ])
        .setup(move |app| {
            use tauri::Manager;
            let handle = app.handle().clone();
            forward.set_save_dialog(Arc::new(WindowSaveDialog));
            forward.set_open_dialog(Arc::new(WindowOpenDialog));
            forward.set_url_opener(Arc::new(SystemBrowser));
            for webview in app.webview_windows().values() {
                paint_without_compositing(webview);
            }
            // Live mode is in the title bar too (and in the taskbar, Alt-Tab),
            // from the start and whenever a saved setting changes the mode.
            let mut mode = forward.mode_changes();
            let titled = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                loop {
                    let live = *mode.borrow_and_update() == crate::engine::settings::Mode::Live;
                    let title = if live {
                        crate::engine::LIVE_WINDOW_TITLE
                    } else {
                        WINDOW_TITLE
                    };
                    for webview in titled.webview_windows().values() {
                        let _ = webview.set_title(title);
                    }
                    if mode.changed().await.is_err() {
                        break;
                    }
                }
            });
            let mut rx = forward.events().subscribe();
            tauri::async_runtime::spawn(async move {
                use tokio::sync::broadcast::error::{RecvError, TryRecvError};
                loop {
                    match rx.recv().await {
                        Ok(ev) => {
                            // Whatever is queued goes as one batch.
                            let mut batch = vec![ev];
                            while batch.len() < EVENT_BATCH_MAX {
                                match rx.try_recv() {
                                    Ok(ev) => batch.push(ev),
                                    Err(TryRecvError::Lagged(_)) => continue,
                                    Err(_) => break,
                                }
                            }
                            handle.state::<EventChannels>().send(&batch);
                        }
                        Err(RecvError::Lagged(_)) => continue,
                        Err(_) => break,
                    }
                }
            });
            Ok(())
        })
}

/// Opens the window and runs until it closes.
pub fn run(engine: Arc<Engine>) -> anyhow::Result<()> {
    builder(tauri::Builder::default(), engine)
        .run(tauri::generate_context!())
        .map_err(|e| anyhow::anyhow!("the window could not start: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bundled_urls_are_local() {
        assert!(is_local(&"tauri://localhost/".parse().unwrap()));
        assert!(is_local(&"http://tauri.localhost/index.html".parse().unwrap()));
        assert!(!is_local(&"https://example.com/".parse().unwrap()));
        assert!(!is_local(&"http://tauri.localhost.evil.com/".parse().unwrap()));
        assert!(!is_local(&"file:///etc/passwd".parse().unwrap()));
    }

    #[test]
    fn api_command_answers_through_the_mock_runtime() {
        use tauri::ipc::{CallbackFn, InvokeBody};
        use tauri::test::{INVOKE_KEY, get_ipc_response, mock_builder, mock_context, noop_assets};
        use tauri::webview::InvokeRequest;

        let dir = tempfile::tempdir().unwrap();
        let engine = Arc::new(Engine::new(crate::engine::Paths::under(dir.path()), false));
        let app = builder(mock_builder(), engine)
            .build(mock_context(noop_assets()))
            .unwrap();
        let w = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .unwrap();
        let req = |body: serde_json::Value| InvokeRequest {
            cmd: "api".into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(body),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        let info = get_ipc_response(&w, req(serde_json::json!({"call": {"cmd": "app_info"}})))
            .unwrap()
            .deserialize::<serde_json::Value>()
            .unwrap();
        assert_eq!(info["mode"], "demo");
        let errs = get_ipc_response(
            &w,
            req(serde_json::json!({"call": {"cmd": "wizard_validate", "args": {"step": "organisation", "answers": {}}}})),
        )
        .unwrap()
        .deserialize::<serde_json::Value>()
        .unwrap();
        assert_eq!(errs[0]["field"], "organisation.name");
    }
}
