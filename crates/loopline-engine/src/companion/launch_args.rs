//! How the login entry's program and arguments are written on macOS and Windows, where
//! `auto-launch` puts them into a file or the registry as they are given.
//!
//! `auto-launch` 0.6 joins the Windows Run key's value as `path args` with no quoting, so a
//! program under `C:\Program Files` or a data folder under a user name with a space would
//! be split; and it writes the macOS LaunchAgent's `ProgramArguments` as raw XML, so a path
//! with `&` or `<` would make the plist unreadable. Both are pure and tested on every OS.

/// One argument for a Windows command line, quoted the way `CommandLineToArgvW` and the
/// MSVC runtime read it back: bare when it has no space, tab or quote; otherwise in quotes,
/// with the backslashes before a quote (or before the closing quote) doubled.
pub fn windows_arg(arg: &str) -> String {
    if !arg.is_empty() && !arg.contains([' ', '\t', '\n', '"']) {
        return arg.to_string();
    }
    let mut out = String::from('"');
    let mut backslashes = 0usize;
    for c in arg.chars() {
        match c {
            '\\' => backslashes += 1,
            '"' => {
                out.extend(std::iter::repeat_n('\\', backslashes * 2 + 1));
                out.push('"');
                backslashes = 0;
            }
            _ => {
                out.extend(std::iter::repeat_n('\\', backslashes));
                out.push(c);
                backslashes = 0;
            }
        }
    }
    out.extend(std::iter::repeat_n('\\', backslashes * 2));
    out.push('"');
    out
}

/// Text for an XML element's content (a plist `<string>`).
pub fn xml_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_windows_path_with_spaces_is_quoted_and_a_plain_one_is_not() {
        assert_eq!(
            windows_arg(r"C:\Program Files\Loopline\loopline-app.exe"),
            r#""C:\Program Files\Loopline\loopline-app.exe""#
        );
        assert_eq!(windows_arg("--hidden"), "--hidden");
        assert_eq!(windows_arg(""), r#""""#);
    }

    #[test]
    fn backslashes_before_a_quote_or_the_end_are_doubled() {
        // A folder argument ending in a backslash must not escape the closing quote.
        assert_eq!(
            windows_arg(r"C:\Users\José Pérez\data\"),
            r#""C:\Users\José Pérez\data\\""#
        );
        assert_eq!(windows_arg(r#"a "b""#), r#""a \"b\"""#);
        assert_eq!(windows_arg(r#"a\"b c"#), r#""a\\\"b c""#);
    }

    #[test]
    fn plist_text_escapes_markup() {
        assert_eq!(
            xml_text("/Users/a&b/<Loopline>.app"),
            "/Users/a&amp;b/&lt;Loopline&gt;.app"
        );
        assert_eq!(xml_text("/Users/zoë/Loopline"), "/Users/zoë/Loopline");
    }
}
