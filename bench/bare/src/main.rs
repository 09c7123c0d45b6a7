//! A bare Tauri v2 window showing one static heading; prints the same
//! first-paint mark as the app (see src-tauri/src/adapters/tauri.rs).

#[tauri::command]
fn bench_mark(name: String) {
    if std::env::var_os("CATALYST_BENCH_MARK").is_some() {
        let ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        println!("CATALYST_BENCH_MARK {name} {ns}");
    }
}

fn main() {
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![bench_mark])
        .run(tauri::generate_context!())
        .expect("the bare window could not start");
}
