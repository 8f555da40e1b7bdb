//! WebKitGTK choices that have to be in the environment before WebKit starts.

/// Set by the user to keep WebKitGTK's GPU compositing (the default of WebKit itself).
pub const KEEP_GPU_COMPOSITING: &str = "LOOPLINE_GPU_COMPOSITING";
const DISABLE_COMPOSITING: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// Whether the window is drawn without WebKitGTK's GPU compositing. Loopline's pages are
/// lists, forms and a status bar, which the CPU paints at once. The GPU path first builds an
/// EGL context in the web process (on a laptop without a usable GPU driver, Mesa's llvmpipe,
/// which loads LLVM), before the first frame: B8 measured 0.48 s to first paint with it and
/// 0.33 s without, and 90 MB less in the web process. It is also the usual cure for the
/// blank window some GPU drivers give WebKitGTK. A choice the user made either way wins.
pub fn compositing_disabled(user_choice: Option<&str>, keep_gpu: Option<&str>) -> Option<bool> {
    match (user_choice, keep_gpu) {
        (Some(_), _) => None,
        (None, Some(v)) if !v.is_empty() && v != "0" => None,
        _ => Some(true),
    }
}

/// Applies the choice to this process's environment, which WebKit reads when it starts and
/// passes on to its web process. Called first in `run()`, before any thread exists.
pub fn apply() {
    let user = std::env::var(DISABLE_COMPOSITING).ok();
    let keep = std::env::var(KEEP_GPU_COMPOSITING).ok();
    if compositing_disabled(user.as_deref(), keep.as_deref()) == Some(true) {
        std::env::set_var(DISABLE_COMPOSITING, "1");
    }
}

#[cfg(test)]
mod tests {
    use super::compositing_disabled;

    #[test]
    fn gpu_compositing_is_off_unless_the_user_chose() {
        assert_eq!(compositing_disabled(None, None), Some(true));
        assert_eq!(compositing_disabled(None, Some("0")), Some(true));
        assert_eq!(compositing_disabled(None, Some("")), Some(true));
        // The user's own WebKit setting, whatever it is, is left alone.
        assert_eq!(compositing_disabled(Some("0"), None), None);
        assert_eq!(compositing_disabled(Some("1"), None), None);
        assert_eq!(compositing_disabled(None, Some("1")), None);
    }
}
