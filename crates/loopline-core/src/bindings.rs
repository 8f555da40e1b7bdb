//! The TypeScript the UI imports, generated from the Rust types so the two cannot drift.
//! `ui/src/bindings.gen.ts` is committed; a test compares it with this output.

use ts_rs::{Config, TS};

use crate::{
    ApiError, AppInfo, AquariumIssue, AquariumIssueSummary, AutostartStatus, AwsIdentity, AwsMode,
    AwsSettings, CatchUp, CatchUpReport, CatchUpTrigger, CloseAction, CompanionLevel,
    CompanionPrefs, CompanionStatus, CountPoint, Counter, CreatedSource, DbBackup, DbCheck,
    DbRestore, DeletedHookPolicy, Diagnostics, ElementType, ErrorCode, EventDetail, EventKind,
    EventPage, EventQuery, EventStatus, EventSummary, ExportBrief, ExportCreated, ExportFailed,
    ExportLabels, ExportPreview, ExportReport, ExportRequest, ExportSkipped, ExportState,
    ExportTarget, Geometry, Header, Health, HookRegistration, IssueElement, IssueLabel, Keypoint,
    LabelStudioIdentity, LabelTemplate, LabelingChoice, LabelingRequest, NamedTunnel, Notice,
    NoticeKind, NotificationPrefs, Overlap, PipelineParam, PreviewHeader, PreviewRequest,
    ProcessStatus, Quiescence, QuitPlan, ReceiverState, ReceiverStatus, ReplayOutcome,
    RetentionPolicy, RetrainRule, RolePolicy, RoleRequest, RuleHistory, RuleRequest, Run,
    RunStatus, RunStep, SecretInfo, SetupJob, SetupReport, SetupStep, SetupWork, SkippedElement,
    Source, SourceKind, StepStatus, StorageCredentials, StorageLayout, StorageRequest, TaskState,
    TaskStatus, TimelineChanged, TimelineStats, TokenKind, TunnelConfig, TunnelState, TunnelStatus,
    TunnelTest, UploadProgress,
};

pub const BINDINGS_HEADER: &str = "// Generated from the Rust types in crates/loopline-core by `scripts/gen-bindings`.\n// Do not edit by hand: a test fails when this file drifts from the Rust source.\n";

fn decl<T: TS>(cfg: &Config) -> String {
    format!("export {}\n", T::decl(cfg))
}

/// Every shared type, in a stable order, as one TypeScript module.
pub fn typescript_bindings() -> String {
    // i64 ids and counters travel as JSON numbers, which JavaScript reads as `number`.
    let cfg = Config::new().with_large_int("number");
    let decls = [
        decl::<serde_json::Value>(&cfg),
        decl::<ErrorCode>(&cfg),
        decl::<ApiError>(&cfg),
        decl::<ReceiverState>(&cfg),
        decl::<ReceiverStatus>(&cfg),
        decl::<Health>(&cfg),
        decl::<TaskState>(&cfg),
        decl::<TaskStatus>(&cfg),
        decl::<ProcessStatus>(&cfg),
        decl::<Quiescence>(&cfg),
        decl::<AppInfo>(&cfg),
        decl::<Diagnostics>(&cfg),
        decl::<CompanionLevel>(&cfg),
        decl::<CompanionStatus>(&cfg),
        decl::<CloseAction>(&cfg),
        decl::<NotificationPrefs>(&cfg),
        decl::<NoticeKind>(&cfg),
        decl::<CompanionPrefs>(&cfg),
        decl::<Notice>(&cfg),
        decl::<AutostartStatus>(&cfg),
        decl::<QuitPlan>(&cfg),
        decl::<DbBackup>(&cfg),
        decl::<DbCheck>(&cfg),
        decl::<DbRestore>(&cfg),
        decl::<SourceKind>(&cfg),
        decl::<Source>(&cfg),
        decl::<CreatedSource>(&cfg),
        decl::<EventKind>(&cfg),
        decl::<EventStatus>(&cfg),
        decl::<EventSummary>(&cfg),
        decl::<Header>(&cfg),
        decl::<EventDetail>(&cfg),
        decl::<EventQuery>(&cfg),
        decl::<EventPage>(&cfg),
        decl::<ReplayOutcome>(&cfg),
        decl::<RetentionPolicy>(&cfg),
        decl::<TimelineStats>(&cfg),
        decl::<TimelineChanged>(&cfg),
        decl::<SecretInfo>(&cfg),
        decl::<TokenKind>(&cfg),
        decl::<LabelStudioIdentity>(&cfg),
        decl::<AwsMode>(&cfg),
        decl::<AwsSettings>(&cfg),
        decl::<AwsIdentity>(&cfg),
        decl::<Counter>(&cfg),
        decl::<Overlap>(&cfg),
        decl::<PipelineParam>(&cfg),
        decl::<RetrainRule>(&cfg),
        decl::<RuleRequest>(&cfg),
        decl::<RunStatus>(&cfg),
        decl::<RunStep>(&cfg),
        decl::<Run>(&cfg),
        decl::<CatchUpTrigger>(&cfg),
        decl::<CatchUp>(&cfg),
        decl::<CatchUpReport>(&cfg),
        decl::<HookRegistration>(&cfg),
        decl::<DeletedHookPolicy>(&cfg),
        decl::<CountPoint>(&cfg),
        decl::<RuleHistory>(&cfg),
        decl::<NamedTunnel>(&cfg),
        decl::<TunnelConfig>(&cfg),
        decl::<TunnelState>(&cfg),
        decl::<TunnelStatus>(&cfg),
        decl::<TunnelTest>(&cfg),
        decl::<StepStatus>(&cfg),
        decl::<SetupWork>(&cfg),
        decl::<SetupStep>(&cfg),
        decl::<SetupReport>(&cfg),
        decl::<StorageLayout>(&cfg),
        decl::<StorageRequest>(&cfg),
        decl::<SetupJob>(&cfg),
        decl::<RolePolicy>(&cfg),
        decl::<RoleRequest>(&cfg),
        decl::<LabelTemplate>(&cfg),
        decl::<StorageCredentials>(&cfg),
        decl::<LabelingRequest>(&cfg),
        decl::<LabelingChoice>(&cfg),
        decl::<ElementType>(&cfg),
        decl::<Keypoint>(&cfg),
        decl::<Geometry>(&cfg),
        decl::<IssueLabel>(&cfg),
        decl::<IssueElement>(&cfg),
        decl::<SkippedElement>(&cfg),
        decl::<AquariumIssue>(&cfg),
        decl::<ExportState>(&cfg),
        decl::<ExportBrief>(&cfg),
        decl::<AquariumIssueSummary>(&cfg),
        decl::<ExportTarget>(&cfg),
        decl::<ExportLabels>(&cfg),
        decl::<ExportRequest>(&cfg),
        decl::<ExportCreated>(&cfg),
        decl::<ExportSkipped>(&cfg),
        decl::<ExportFailed>(&cfg),
        decl::<ExportReport>(&cfg),
        decl::<PreviewHeader>(&cfg),
        decl::<PreviewRequest>(&cfg),
        decl::<ExportPreview>(&cfg),
        decl::<UploadProgress>(&cfg),
    ];
    let mut out = String::from(BINDINGS_HEADER);
    for d in decls {
        out.push('\n');
        out.push_str(&d);
    }
    out.push('\n');
    out.push_str(&crate::secret_names::typescript());
    out
}
