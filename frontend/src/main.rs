//! The page's entry point: mounts the app on `<body>`.

#[cfg(target_arch = "wasm32")]
fn main() {
    yew::Renderer::<frontend::app::App>::new().render();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the uploader page runs in a browser: build it with `trunk build --release`");
}
