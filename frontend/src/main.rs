//! The page's entry point: mounts the app into its own element, `<div id="uploader">` (made at
//! the end of `<body>` when the document has none), never over a host document's `<body>`.

#[cfg(target_arch = "wasm32")]
fn main() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let root = document.get_element_by_id("uploader").or_else(|| {
        let root = document.create_element("div").ok()?;
        root.set_attribute("id", "uploader").ok()?;
        document.body()?.append_child(&root).ok()?;
        Some(root)
    });
    if let Some(root) = root {
        yew::Renderer::<frontend::app::App>::with_root(root).render();
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the uploader page runs in a browser: build it with `trunk build --release`");
}
