//! Every app command is declared once, in `commands.rs`, through `app_commands!`: the
//! macro turns each declaration into the Tauri command, registers all of them in one
//! handler, and lists their names, argument types and result types (`specs()`). From that
//! list a test writes `ui/src/api/commands.gen.ts` (the UI's typed `call` and the test fake's
//! table) and fails when the committed file drifts, as the bindings test does for types.

use ts_rs::{Config, TS};

/// One command as the webview calls it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    pub name: &'static str,
    /// (camelCase argument name as Tauri expects it from JavaScript, TypeScript type).
    pub args: Vec<(String, String)>,
    pub result: String,
}

/// Tauri's own rule for argument names: Rust's snake_case arrives as camelCase.
pub fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in snake.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

pub fn ts_name<T: TS + ?Sized>() -> String {
    T::name(&Config::new().with_large_int("number"))
}

/// Declares the app's commands. Two sections: `commands` take the engine slot and their
/// IPC arguments; `with_app` also take the app handle (generic over the runtime, so the
/// command layer runs under tauri's mock runtime in tests).
macro_rules! app_commands {
    (
        commands {
            $(
                $(#[$meta:meta])*
                pub async fn $name:ident($slot:ident: State<'_, EngineSlot> $(, $arg:ident: $ty:ty)* $(,)?) -> Result<$ret:ty, ApiError> $body:block
            )*
        }
        with_app {
            $(
                $(#[$meta2:meta])*
                pub async fn $name2:ident<R: Runtime>($app:ident: AppHandle<R>, $slot2:ident: State<'_, EngineSlot> $(, $arg2:ident: $ty2:ty)* $(,)?) -> Result<$ret2:ty, ApiError> $body2:block
            )*
        }
    ) => {
        $(
            $(#[$meta])*
            #[tauri::command]
            pub async fn $name($slot: State<'_, EngineSlot> $(, $arg: $ty)*) -> Result<$ret, ApiError> $body
        )*
        $(
            $(#[$meta2])*
            #[tauri::command]
            pub async fn $name2<R: Runtime>($app: AppHandle<R>, $slot2: State<'_, EngineSlot> $(, $arg2: $ty2)*) -> Result<$ret2, ApiError> $body2
        )*

        /// The one handler that registers every declared command.
        pub fn handler<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($name,)* $($name2,)*]
        }

        /// Every declared command, in declaration order.
        pub fn specs() -> Vec<$crate::command_table::CommandSpec> {
            use $crate::command_table::{camel, ts_name, CommandSpec};
            vec![
                $(CommandSpec {
                    name: stringify!($name),
                    args: vec![$((camel(stringify!($arg)), ts_name::<$ty>())),*],
                    result: ts_name::<$ret>(),
                },)*
                $(CommandSpec {
                    name: stringify!($name2),
                    args: vec![$((camel(stringify!($arg2)), ts_name::<$ty2>())),*],
                    result: ts_name::<$ret2>(),
                },)*
            ]
        }
    };
}
pub(crate) use app_commands;

pub const HEADER: &str = "// Generated from the command declarations in src-tauri/src/commands.rs (`scripts/gen-bindings`).\n// Do not edit by hand: a test fails when this file drifts from the Rust declarations.\n";

/// The TypeScript module: every command's arguments and result, for the typed `call` and
/// the test fake's table.
pub fn typescript(specs: &[CommandSpec]) -> String {
    let mut types = std::collections::BTreeSet::new();
    let mut body = String::from("export type Commands = {\n");
    for s in specs {
        let args = if s.args.is_empty() {
            "Record<string, never>".to_string()
        } else {
            let fields: Vec<String> = s
                .args
                .iter()
                .map(|(n, t)| {
                    // An `Option` argument may be left out.
                    let optional = if t.ends_with("| null") { "?" } else { "" };
                    format!("{n}{optional}: {t}")
                })
                .collect();
            format!("{{ {} }}", fields.join("; "))
        };
        for t in s.args.iter().map(|(_, t)| t).chain([&s.result]) {
            collect_type_names(t, &mut types);
        }
        body.push_str(&format!(
            "  {}: {{ args: {args}; result: {} }};\n",
            s.name, s.result
        ));
    }
    body.push_str("};\n\nexport type CommandName = keyof Commands;\nexport type CommandArgs<K extends CommandName> = Commands[K][\"args\"];\nexport type CommandResult<K extends CommandName> = Commands[K][\"result\"];\n\nexport const COMMAND_NAMES = [\n");
    for s in specs {
        body.push_str(&format!("  \"{}\",\n", s.name));
    }
    body.push_str("] as const satisfies readonly CommandName[];\n");
    let mut out = String::from(HEADER);
    if !types.is_empty() {
        let list: Vec<String> = types.into_iter().collect();
        out.push_str(&format!(
            "import type {{ {} }} from \"../bindings.gen\";\n",
            list.join(", ")
        ));
    }
    out.push('\n');
    out.push_str(&body);
    out
}

fn collect_type_names(ts: &str, into: &mut std::collections::BTreeSet<String>) {
    for word in ts.split(|c: char| !c.is_ascii_alphanumeric() && c != '_') {
        if word.starts_with(|c: char| c.is_ascii_uppercase())
            && !matches!(word, "Array" | "Record" | "Partial")
        {
            into.insert(word.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::camel;

    #[test]
    fn argument_names_are_camel_case_as_tauri_sends_them() {
        assert_eq!(camel("source_id"), "sourceId");
        assert_eq!(camel("start_time_limit_secs"), "startTimeLimitSecs");
        assert_eq!(camel("id"), "id");
    }
}
