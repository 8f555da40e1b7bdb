pub use crate::global_args::{GlobalArgs, JsonFlag};
pub use crate::setup_args::{SetupCommand, SetupS3};
use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "loopline",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("LOOPLINE_COMMIT"), ")"),
    about = "Receive Label Studio and Aquarium webhooks, keep them, and act on them.",
    long_about = "Loopline receives webhooks from Label Studio and Aquarium on your machine, stores every \
                  one before acknowledging it, and drives the annotation-to-training loop. This is the \
                  headless command; the desktop app runs the same engine."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the webhook receiver until Ctrl-C or SIGTERM.
    Serve(ServeArgs),
    /// Show where Loopline keeps its data and which schema it is on.
    Info(JsonFlag),
    /// Print a report for a bug report: info, setup status and the newest log lines, with
    /// every secret masked (Settings › About › Copy diagnostics copies the same).
    Diagnostics(JsonFlag),
    /// Add, list, rotate and remove the senders Loopline accepts webhooks from.
    #[command(subcommand)]
    Source(SourceCommand),
    /// List, inspect, replay and delete received events.
    #[command(subcommand)]
    Events(EventsCommand),
    /// How long the timeline keeps events.
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Store, list and delete secrets in the OS keychain (values come from stdin).
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Connect Loopline to a service: the token is read from stdin, verified, then stored.
    #[command(subcommand)]
    Connect(ConnectCommand),
    /// Check stored credentials against the live service.
    #[command(subcommand)]
    Verify(VerifyCommand),
    /// Forget a service's stored credentials.
    #[command(subcommand)]
    Disconnect(DisconnectCommand),
    /// Retrain rules: every N annotations in Label Studio, start a SageMaker pipeline.
    #[command(subcommand)]
    Rule(RuleCommand),
    /// The pipeline runs the rules started, and how they went.
    #[command(subcommand)]
    Runs(RunsCommand),
    /// Label Studio: register Loopline's webhook on a project.
    #[command(subcommand, name = "label-studio")]
    LabelStudio(LabelStudioCommand),
    /// Guided setup of AWS and Label Studio: --plan shows the steps and does nothing.
    #[command(subcommand)]
    Setup(SetupCommand),
    /// The tunnel that brings the internet to the receiver, kept by the app or `serve`.
    #[command(subcommand)]
    Tunnel(TunnelCommand),
    /// Aquarium issues received so far, for review.
    #[command(subcommand)]
    Aquarium(crate::aquarium_cmd::AquariumCommand),
    /// The database: check it, back it up, restore the newest good backup.
    #[command(subcommand)]
    Db(crate::db_cmd::DbCommand),
    /// What the tray shows: all well, needs attention or working, and why.
    Status(crate::global_args::JsonFlag),
    /// The companion's settings: what closing the window does, and what notifies.
    #[command(subcommand)]
    Settings(crate::companion_cmd::SettingsCommand),
    /// Start Loopline at login, in the tray without a window (`--hidden`).
    #[command(subcommand)]
    Autostart(crate::companion_cmd::AutostartCommand),
    /// Ask Label Studio what Loopline missed while it was not reachable (the app and `serve`
    /// do this at start, after a sleep and when the tunnel comes back).
    #[command(name = "catch-up")]
    CatchUp(JsonFlag),
    /// Automations: a trigger (which events, which conditions, how often) and an action.
    #[command(subcommand)]
    Automation(crate::automation_cmd::AutomationCommand),
    /// Dataset versions: what each dataset-version automation froze, and how two differ.
    #[command(subcommand)]
    Dataset(crate::dataset_cmd::DatasetCommand),
    /// Model versions: what each run registered, its metrics against the approved version,
    /// and approving or rejecting it.
    #[command(subcommand)]
    Models(crate::models_cmd::ModelsCommand),
}

impl Command {
    pub fn wants_json(&self) -> bool {
        match self {
            Command::Serve(_) => false,
            Command::Info(a) | Command::Diagnostics(a) => a.json,
            Command::Source(c) => c.json(),
            Command::Events(c) => c.json(),
            Command::Retention(c) => c.json(),
            Command::Secret(c) => c.json(),
            Command::Connect(ConnectCommand::LabelStudio { json, .. })
            | Command::Connect(ConnectCommand::Aws { json, .. }) => *json,
            Command::Verify(VerifyCommand::LabelStudio(f) | VerifyCommand::Aws(f)) => f.json,
            Command::Disconnect(_) => false,
            Command::Rule(RuleCommand::Add(RuleAdd::Retrain(a))) => a.json,
            Command::Rule(RuleCommand::List(f)) => f.json,
            Command::Rule(RuleCommand::Remove { .. }) => false,
            Command::Runs(RunsCommand::List { json, .. }) => *json,
            Command::Runs(RunsCommand::Show { json, .. } | RunsCommand::Retry { json, .. }) => {
                *json
            }
            Command::LabelStudio(
                LabelStudioCommand::Hook { json, .. } | LabelStudioCommand::HookPolicy { json, .. },
            ) => *json,
            Command::Tunnel(c) => c.json(),
            Command::Setup(SetupCommand::S3(a)) => a.json,
            Command::Setup(SetupCommand::Sagemaker(a)) => a.json,
            Command::Setup(SetupCommand::LabelStudio(a)) => a.json,
            Command::Setup(SetupCommand::Check(a)) => a.json,
            Command::Aquarium(c) => c.wants_json(),
            Command::Db(c) => c.json(),
            Command::Status(f) => f.json,
            Command::Settings(c) => c.json(),
            Command::Autostart(c) => c.json(),
            Command::CatchUp(a) => a.json,
            Command::Automation(c) => c.json(),
            Command::Dataset(c) => c.json(),
            Command::Models(c) => c.json(),
            Command::Setup(SetupCommand::Status(f)) => f.json,
        }
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. Defaults to the last one chosen in the app, else 127.0.0.1:8787.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Allow a non-loopback address such as 0.0.0.0. Without it, Loopline only listens on
    /// this machine and a tunnel brings the internet to it.
    #[arg(long)]
    pub public: bool,
    /// Largest webhook body accepted, in MiB (larger ones get 413).
    #[arg(long, value_name = "MIB", default_value_t = 32)]
    pub max_body_mib: usize,
    /// Requests per second accepted from one source before 429; 0 turns the limit off.
    #[arg(long, value_name = "N", default_value_t = 200.0)]
    pub rate_limit: f64,
    /// How often the Label Studio webhooks Loopline registered are checked, and turned back
    /// on if Label Studio turned them off: 30s, 5m.
    #[arg(long, value_name = "DURATION", default_value = "60s")]
    pub label_studio_check: String,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum KindArg {
    LabelStudio,
    Aquarium,
    Generic,
}

#[derive(Debug, Subcommand)]
pub enum SourceCommand {
    /// Add a source and print its hook path, header and (once) its token.
    Add {
        kind: KindArg,
        #[arg(long)]
        name: String,
        /// Read the secret from stdin: required for Aquarium (the secret Aquarium generated),
        /// optional for generic (a Standard Webhooks `whsec_…` secret from the sender).
        #[arg(long)]
        secret_stdin: bool,
        /// Aquarium only: accept deliveries without `X-Aquarium-Secret` (Aquarium sends it
        /// only when your organisation has set a secret). Anyone who learns the URL can post.
        #[arg(long, conflicts_with = "secret_stdin")]
        no_secret: bool,
        #[arg(long)]
        json: bool,
    },
    /// List sources (never their secrets).
    List(JsonFlag),
    /// Issue a new secret; the old one stays valid for the grace period.
    Rotate {
        id: String,
        /// How long the previous secret keeps working: 0, 90s, 30m, 24h, 7d.
        #[arg(long, default_value = "0")]
        grace: String,
        /// Read the new secret from stdin (Aquarium; optional for generic).
        #[arg(long)]
        secret_stdin: bool,
        #[arg(long)]
        json: bool,
    },
    /// Remove a source. Its events stay on the timeline.
    Remove {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Post a realistic sample event to the running receiver, authenticated like the sender.
    Test {
        id: String,
        /// The receiver's base URL; defaults to the saved listen address.
        #[arg(long)]
        url: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

impl SourceCommand {
    fn json(&self) -> bool {
        match self {
            SourceCommand::Add { json, .. }
            | SourceCommand::Rotate { json, .. }
            | SourceCommand::Remove { json, .. }
            | SourceCommand::Test { json, .. } => *json,
            SourceCommand::List(f) => f.json,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum StatusArg {
    Processed,
    Duplicate,
    Malformed,
    Rejected,
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// List events, newest first.
    List {
        #[arg(long)]
        source: Option<String>,
        #[arg(long)]
        action: Option<String>,
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
        #[arg(long)]
        project: Option<i64>,
        /// Full-text search over payloads.
        #[arg(long)]
        search: Option<String>,
        /// Only events older than this id (paging).
        #[arg(long)]
        before: Option<i64>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Show one event: summary, headers and body, with secrets masked.
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Process a stored event again; with --body-stdin, store an edited copy and process that.
    Replay {
        id: i64,
        #[arg(long)]
        body_stdin: bool,
        #[arg(long)]
        json: bool,
    },
    /// Delete an event.
    Delete {
        id: i64,
        #[arg(long)]
        json: bool,
    },
}

impl EventsCommand {
    fn json(&self) -> bool {
        match self {
            EventsCommand::List { json, .. }
            | EventsCommand::Show { json, .. }
            | EventsCommand::Replay { json, .. }
            | EventsCommand::Delete { json, .. } => *json,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Show the policy, the number of events and the database size.
    Show(JsonFlag),
    /// Keep events for N days and/or the newest N events ("none" removes a limit).
    Set {
        #[arg(long)]
        days: Option<String>,
        #[arg(long)]
        events: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

impl RetentionCommand {
    fn json(&self) -> bool {
        match self {
            RetentionCommand::Show(f) => f.json,
            RetentionCommand::Set { json, .. } => *json,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Store or replace a secret; the value is read from stdin, never from the command line.
    Set {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// List secret names (and the last 4 characters of long values), never the values.
    List(JsonFlag),
    /// Delete a secret.
    Delete {
        name: String,
        #[arg(long)]
        json: bool,
    },
}

impl SecretCommand {
    fn json(&self) -> bool {
        match self {
            SecretCommand::Set { json, .. } | SecretCommand::Delete { json, .. } => *json,
            SecretCommand::List(f) => f.json,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ConnectCommand {
    /// Verify a Label Studio token (legacy or personal access token, from stdin) and store it.
    LabelStudio {
        /// The address you open in the browser, e.g. http://localhost:8080.
        #[arg(long)]
        url: String,
        #[arg(long)]
        json: bool,
    },
    /// Verify AWS credentials with STS GetCallerIdentity and store them. With
    /// --access-key-id, stdin carries the secret access key and, on a second line, an
    /// optional session token. With --profile, nothing secret is stored.
    Aws {
        /// The access key id (AKIA… or ASIA…); its secret comes from stdin.
        #[arg(long, conflicts_with = "profile", required_unless_present = "profile")]
        access_key_id: Option<String>,
        /// A profile from ~/.aws/config (SSO profiles included), resolved by the AWS SDK.
        #[arg(long)]
        profile: Option<String>,
        /// The region your SageMaker pipeline and bucket are in, e.g. eu-west-1.
        /// Required with keys; with a profile, the profile's own region is used when omitted.
        #[arg(long, required_unless_present = "profile")]
        region: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum VerifyCommand {
    /// Ask Label Studio who the stored token belongs to, and which version it runs.
    LabelStudio(JsonFlag),
    /// Ask AWS (STS GetCallerIdentity) which account and principal the credentials are.
    Aws(JsonFlag),
}

#[derive(Debug, Subcommand)]
pub enum DisconnectCommand {
    /// Forget the Label Studio address and token.
    LabelStudio,
    /// Forget the stored AWS keys or profile and region (the SDK's default chain applies again).
    Aws,
}

#[derive(Debug, Subcommand)]
pub enum RuleCommand {
    /// Add a rule.
    #[command(subcommand)]
    Add(RuleAdd),
    /// List the rules, with their progress ("12 of 16 useful annotations toward the next retrain").
    List(JsonFlag),
    /// Remove a rule (its runs stay in the history).
    Remove { id: String },
}

#[derive(Debug, Subcommand)]
pub enum RuleAdd {
    /// Every N annotations on a Label Studio project, start a SageMaker pipeline.
    Retrain(RetrainArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum CounterArg {
    /// project.useful_annotation_number: skipped annotations do not count.
    Useful,
    /// project.total_annotations_number.
    Total,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OverlapArg {
    /// While a run is executing, hold one follow-up and start it when that run ends.
    Coalesce,
    /// Start runs side by side.
    Parallel,
    /// Record the firing as skipped.
    Skip,
}

#[derive(Debug, Args)]
pub struct RetrainArgs {
    /// The label-studio source whose webhooks count.
    #[arg(long)]
    pub source: String,
    /// The project's number in Label Studio (its URL shows it: /projects/7/).
    #[arg(long)]
    pub project: i64,
    /// Start a run at every multiple of this many annotations.
    #[arg(long, default_value_t = 16)]
    pub every: i64,
    /// The SageMaker pipeline's name or ARN.
    #[arg(long)]
    pub pipeline: String,
    /// A pipeline parameter, NAME=VALUE. VALUE may use {count}, {useful_annotation_number},
    /// {total_annotations_number}, {project_id}, {event_id} or {bucket}. Repeatable.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    #[arg(long, value_enum, default_value = "useful")]
    pub counter: CounterArg,
    #[arg(long, value_enum, default_value = "coalesce")]
    pub overlap: OverlapArg,
    /// Record "would start" without calling AWS.
    #[arg(long)]
    pub dry_run: bool,
    /// How long starting a run may keep retrying (throttling, outages) before it is shown
    /// as failed: 90s, 15m, 1h.
    #[arg(long, default_value = "15m")]
    pub start_time_limit: String,
    /// The project's annotation count now, when Loopline cannot ask Label Studio (not
    /// connected, or unreachable): the rule fires from there, never on older annotations.
    #[arg(long, value_name = "N")]
    pub start_count: Option<i64>,
    /// Add the rule even though another Loopline receives the project's annotations
    /// (each would start the pipeline).
    #[arg(long)]
    pub even_if_shared: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// The newest runs first.
    List {
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// One run: its trigger, parameters, status, steps and console link.
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Retry now a run whose start failed.
    Retry {
        id: i64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum LabelStudioCommand {
    /// Register Loopline's webhook on a project (or update it): the source's hook URL under
    /// PUBLIC_URL, the X-Loopline-Token header, and the annotation actions.
    Hook {
        #[arg(long)]
        source: String,
        #[arg(long)]
        project: i64,
        /// The address Label Studio reaches Loopline at (http://127.0.0.1:8787 when both run
        /// on this machine). Defaults to the tunnel's verified public URL.
        #[arg(long)]
        public_url: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// What Loopline does when its webhook was deleted in Label Studio: register it again
    /// (recreate, the default) or leave it deleted and say so on the timeline (report).
    /// Without --if-deleted, prints the current choice.
    HookPolicy {
        #[arg(long, value_parser = ["recreate", "report"])]
        if_deleted: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TunnelCommand {
    /// Choose the tunnel. A running serve or app switches to it within a second.
    #[command(subcommand)]
    Set(TunnelSet),
    /// Stop keeping a tunnel (Label Studio's webhooks keep their last URL).
    Off,
    /// The tunnel the running serve or app keeps: provider, state, public URL, last self-test.
    Status(JsonFlag),
    /// One self-test now, through the public URL.
    Test(JsonFlag),
}

#[derive(Debug, Subcommand)]
pub enum TunnelSet {
    /// A Cloudflare tunnel through the cloudflared binary: a quick tunnel (no account), or
    /// your named tunnel.
    Cloudflared {
        /// The cloudflared binary; the one on PATH by default.
        #[arg(long, value_name = "PATH")]
        binary: Option<String>,
        /// Run your named tunnel instead of a quick one.
        #[arg(long, requires_all = ["token_secret", "hostname"])]
        named: bool,
        /// The secret holding the named tunnel's token.
        #[arg(long, value_name = "NAME")]
        token_secret: Option<String>,
        /// The public hostname routed to the named tunnel.
        #[arg(long, value_name = "HOST")]
        hostname: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// ngrok, with the authtoken from the secret store.
    Ngrok {
        #[arg(long, value_name = "NAME")]
        authtoken_secret: String,
        /// Your ngrok domain (the free static one, for example).
        #[arg(long, value_name = "D")]
        domain: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Your own bore server (`bore server`).
    Bore {
        /// HOST or HOST:7835.
        #[arg(long, value_name = "HOST[:PORT]")]
        server: String,
        /// The secret holding the bore server's --secret.
        #[arg(long, value_name = "NAME")]
        secret_name: Option<String>,
        /// The HTTPS address your reverse proxy serves in front of the bore port. Without it,
        /// Label Studio is not pointed at a bore server on another machine (plain HTTP).
        #[arg(long, value_name = "URL")]
        https_url: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Your own public URL (a reverse proxy, Tailscale Funnel, a VPN): checked, not opened.
    Url {
        #[arg(long, value_name = "URL")]
        public_url: String,
        #[arg(long)]
        json: bool,
    },
}

impl TunnelCommand {
    pub fn json(&self) -> bool {
        match self {
            TunnelCommand::Set(
                TunnelSet::Cloudflared { json, .. }
                | TunnelSet::Ngrok { json, .. }
                | TunnelSet::Bore { json, .. }
                | TunnelSet::Url { json, .. },
            ) => *json,
            TunnelCommand::Off => false,
            TunnelCommand::Status(f) | TunnelCommand::Test(f) => f.json,
        }
    }
}
