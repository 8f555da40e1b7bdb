//! One-line adapters from IPC to the engine. Each has a CLI twin over the same engine call.

use loopline_core::{
    ApiError, AppInfo, AquariumIssue, AquariumIssueSummary, Automation, AutomationDetail,
    AutomationPreview, AutomationRequest, AutostartStatus, AwsIdentity, AwsSettings,
    CompanionPrefs, CompanionStatus, ConditionField, CreatedSource, DatasetDiff, DatasetManifest,
    DatasetVersion, DbCheck, DbRestore, DeletedHookPolicy, Diagnostics, ErrorCode, EventDetail,
    EventPage, EventQuery, ExportPreview, ExportReport, ExportRequest, HookRegistration,
    LabelStudioIdentity, LabelingChoice, LabelingRequest, ModelDecision, ModelList, ModelVersion,
    ReceiverStatus, ReplayOutcome, RetentionPolicy, RetrainRule, RoleRequest, RuleHistory, Run,
    SecretInfo, Sensitive, SetupJob, SetupReport, SetupStep, SetupWork, Source, SourceKind,
    StorageLayout, StorageRequest, TimelineStats, TunnelConfig, TunnelStatus, TunnelTest,
    CONDITION_FIELDS,
};
use loopline_engine::{AwsCredentials, RuleRequest};
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_opener::OpenerExt;

use crate::command_table::app_commands;
use crate::EngineSlot;

app_commands! {
    commands {
        /// The receiver's current state (`loopline serve` prints the same on start).
        pub async fn receiver_status(slot: State<'_, EngineSlot>) -> Result<ReceiverStatus, ApiError> {
            Ok(slot.ready_engine().await?.receiver_status())
        }

        /// Moves the receiver to `listen` and remembers it (`loopline serve --listen`).
        pub async fn receiver_start(
            slot: State<'_, EngineSlot>,
            listen: String,
        ) -> Result<ReceiverStatus, ApiError> {
            let engine = slot.ready_engine().await?;
            engine.start_receiver(&listen, false, true).await?;
            Ok(engine.receiver_status())
        }

        /// Where the data lives (`loopline info`).
        pub async fn app_info(slot: State<'_, EngineSlot>) -> Result<AppInfo, ApiError> {
            slot.ready_engine().await?.info().await
        }

        /// Settings › About › Copy diagnostics (`loopline diagnostics`): info, setup status and
        /// the newest log lines, every secret masked.
        pub async fn diagnostics(slot: State<'_, EngineSlot>) -> Result<Diagnostics, ApiError> {
            slot.engine()?.diagnostics().await
        }

        /// Why the engine did not start, if it did not; `null` when all is well.
        pub async fn engine_status(slot: State<'_, EngineSlot>) -> Result<Option<ApiError>, ApiError> {
            Ok(slot.startup_error().await)
        }

        /// `loopline db check`: works when the engine could not open, to explain why.
        pub async fn db_check(slot: State<'_, EngineSlot>) -> Result<DbCheck, ApiError> {
            loopline_engine::check_database(slot.data_dir().as_deref()).await
        }

        /// `loopline status`: what the tray shows.
        pub async fn companion_status(slot: State<'_, EngineSlot>) -> Result<CompanionStatus, ApiError> {
            slot.ready_engine().await?.companion_status().await
        }

        /// `loopline settings show`
        pub async fn companion_prefs(slot: State<'_, EngineSlot>) -> Result<CompanionPrefs, ApiError> {
            slot.ready_engine().await?.companion_prefs().await
        }

        /// `loopline settings set --on-close … --notify KIND=on|off`
        pub async fn companion_prefs_set(
            slot: State<'_, EngineSlot>,
            prefs: CompanionPrefs,
        ) -> Result<CompanionPrefs, ApiError> {
            slot.ready_engine().await?.set_companion_prefs(&prefs).await
        }

        /// `loopline autostart status`
        pub async fn autostart_status(_slot: State<'_, EngineSlot>) -> Result<AutostartStatus, ApiError> {
            Ok(loopline_engine::companion::autostart_status())
        }

        /// `loopline autostart on|off`: the login entry starts this app with `--hidden`.
        pub async fn autostart_set(slot: State<'_, EngineSlot>, enabled: bool) -> Result<AutostartStatus, ApiError> {
            slot.ready_engine().await?.set_autostart(enabled, &crate::launch::own_executable()?)
        }

        /// `loopline source list`
        pub async fn sources_list(slot: State<'_, EngineSlot>) -> Result<Vec<Source>, ApiError> {
            slot.ready_engine().await?.list_sources().await
        }

                /// `loopline source add KIND --name NAME [--secret-stdin | --no-secret]`
        pub async fn source_add(
            slot: State<'_, EngineSlot>,
            kind: SourceKind,
            name: String,
            secret: Option<String>,
            no_secret: Option<bool>,
        ) -> Result<CreatedSource, ApiError> {
            let engine = slot.ready_engine().await?;
            if no_secret == Some(true) && kind == SourceKind::Aquarium {
                return engine.add_source_without_secret(&name).await;
            }
            engine.add_source(kind, &name, secret.map(Sensitive::new)).await
        }

        /// `loopline source rotate ID --grace SECS [--secret-stdin]`
        pub async fn source_rotate(
            slot: State<'_, EngineSlot>,
            id: String,
            grace: i64,
            secret: Option<String>,
        ) -> Result<CreatedSource, ApiError> {
            slot.ready_engine().await?
                .rotate_source(&id, grace, secret.map(Sensitive::new))
                .await
        }

        /// `loopline source remove ID`
        pub async fn source_remove(slot: State<'_, EngineSlot>, id: String) -> Result<(), ApiError> {
            slot.ready_engine().await?.remove_source(&id).await
        }

        /// `loopline source test ID`
        pub async fn source_send_test(slot: State<'_, EngineSlot>, id: String) -> Result<i64, ApiError> {
            slot.ready_engine().await?.send_test_event(&id, None).await
        }

        /// `loopline events list …`
        pub async fn events_list(
            slot: State<'_, EngineSlot>,
            query: EventQuery,
        ) -> Result<EventPage, ApiError> {
            slot.ready_engine().await?.list_events(&query).await
        }

        /// `loopline events show ID`
        pub async fn event_show(slot: State<'_, EngineSlot>, id: i64) -> Result<EventDetail, ApiError> {
            slot.ready_engine().await?.show_event(id).await
        }

        /// `loopline events replay ID`
        pub async fn event_replay(slot: State<'_, EngineSlot>, id: i64) -> Result<ReplayOutcome, ApiError> {
            slot.ready_engine().await?.replay_event(id).await
        }

        /// `loopline events replay ID --body-stdin`
        pub async fn event_replay_edited(
            slot: State<'_, EngineSlot>,
            id: i64,
            body: String,
        ) -> Result<ReplayOutcome, ApiError> {
            slot.ready_engine().await?.replay_edited(id, &body).await
        }

        /// `loopline events delete ID`
        pub async fn event_delete(slot: State<'_, EngineSlot>, id: i64) -> Result<(), ApiError> {
            slot.ready_engine().await?.delete_event(id).await
        }

        /// `loopline retention show`
        pub async fn timeline_stats(slot: State<'_, EngineSlot>) -> Result<TimelineStats, ApiError> {
            slot.ready_engine().await?.timeline_stats().await
        }

        /// `loopline retention set --days N --events N`
        pub async fn retention_set(
            slot: State<'_, EngineSlot>,
            policy: RetentionPolicy,
        ) -> Result<TimelineStats, ApiError> {
            slot.ready_engine().await?.set_retention(&policy).await
        }

        /// `loopline secret list`
        pub async fn secrets_list(slot: State<'_, EngineSlot>) -> Result<Vec<SecretInfo>, ApiError> {
            slot.ready_engine().await?.list_secrets().await
        }

        /// `loopline secret set NAME` (the value never comes back to the webview).
        pub async fn secret_set(
            slot: State<'_, EngineSlot>,
            name: String,
            value: String,
        ) -> Result<SecretInfo, ApiError> {
            slot.ready_engine().await?
                .set_secret(&name, Sensitive::new(value))
                .await
        }

        /// `loopline secret delete NAME`
        pub async fn secret_delete(slot: State<'_, EngineSlot>, name: String) -> Result<(), ApiError> {
            slot.ready_engine().await?.delete_secret(&name).await
        }

        /// `loopline connect label-studio --url URL` (token from the form, verified, then stored).
        pub async fn label_studio_connect(
            slot: State<'_, EngineSlot>,
            url: String,
            token: String,
        ) -> Result<LabelStudioIdentity, ApiError> {
            slot.ready_engine().await?
                .connect_label_studio(&url, Sensitive::new(token))
                .await
        }

        /// `loopline verify label-studio`
        pub async fn label_studio_verify(
            slot: State<'_, EngineSlot>,
        ) -> Result<LabelStudioIdentity, ApiError> {
            slot.ready_engine().await?.verify_label_studio().await
        }

        /// The Label Studio address last connected, if any (no secret).
        pub async fn label_studio_url(slot: State<'_, EngineSlot>) -> Result<Option<String>, ApiError> {
            slot.ready_engine().await?.label_studio_url().await
        }

        /// `loopline disconnect label-studio`
        pub async fn label_studio_disconnect(slot: State<'_, EngineSlot>) -> Result<(), ApiError> {
            slot.ready_engine().await?.disconnect_label_studio().await
        }

        /// `loopline connect aws --access-key-id ID --region R` (secret and optional session token
        /// from the form, verified with STS, then stored in the keychain).
        pub async fn aws_connect_keys(
            slot: State<'_, EngineSlot>,
            access_key_id: String,
            secret_access_key: String,
            session_token: Option<String>,
            region: String,
        ) -> Result<AwsIdentity, ApiError> {
            let credentials = AwsCredentials::Keys {
                access_key_id: Sensitive::new(access_key_id),
                secret_access_key: Sensitive::new(secret_access_key),
                session_token: session_token.map(Sensitive::new),
            };
            slot.ready_engine().await?.connect_aws(credentials, Some(&region)).await
        }

        /// `loopline connect aws --profile NAME [--region R]`
        pub async fn aws_connect_profile(
            slot: State<'_, EngineSlot>,
            profile: String,
            region: Option<String>,
        ) -> Result<AwsIdentity, ApiError> {
            slot.ready_engine().await?
                .connect_aws(AwsCredentials::Profile(profile), region.as_deref())
                .await
        }

        /// `loopline verify aws`
        pub async fn aws_verify(slot: State<'_, EngineSlot>) -> Result<AwsIdentity, ApiError> {
            slot.ready_engine().await?.verify_aws().await
        }

        /// What AWS credentials are configured, without any secret.
        pub async fn aws_settings(slot: State<'_, EngineSlot>) -> Result<AwsSettings, ApiError> {
            slot.ready_engine().await?.aws_settings().await
        }

        /// `loopline disconnect aws`
        pub async fn aws_disconnect(slot: State<'_, EngineSlot>) -> Result<(), ApiError> {
            slot.ready_engine().await?.disconnect_aws().await
        }

        /// `loopline rule list`
        pub async fn rules_list(slot: State<'_, EngineSlot>) -> Result<Vec<RetrainRule>, ApiError> {
            slot.ready_engine().await?.list_rules().await
        }

        /// `loopline rule add retrain --source ID --project N --every N --pipeline P …`
        pub async fn rule_add(
            slot: State<'_, EngineSlot>,
            rule: RuleRequest,
        ) -> Result<RetrainRule, ApiError> {
            slot.ready_engine().await?.add_rule(rule).await
        }

        /// `loopline rule remove ID`
        pub async fn rule_remove(slot: State<'_, EngineSlot>, id: String) -> Result<(), ApiError> {
            slot.ready_engine().await?.remove_rule(&id).await
        }

        /// The chart's data for one rule (no CLI twin: `runs list` and the events carry it).
        pub async fn rule_history(
            slot: State<'_, EngineSlot>,
            id: String,
        ) -> Result<RuleHistory, ApiError> {
            slot.ready_engine().await?.rule_history(&id).await
        }

        /// `loopline runs list`
        pub async fn runs_list(
            slot: State<'_, EngineSlot>,
            limit: Option<i64>,
        ) -> Result<Vec<Run>, ApiError> {
            slot.ready_engine().await?.list_runs(limit.unwrap_or(100)).await
        }

        /// `loopline runs show ID`
        pub async fn run_show(slot: State<'_, EngineSlot>, id: i64) -> Result<Run, ApiError> {
            slot.ready_engine().await?.run(id).await
        }

        /// `loopline runs retry ID` ("retry now")
        pub async fn run_retry(slot: State<'_, EngineSlot>, id: i64) -> Result<Run, ApiError> {
            slot.ready_engine().await?.retry_run(id).await
        }

        /// `loopline automation list`
        pub async fn automation_list(slot: State<'_, EngineSlot>) -> Result<Vec<Automation>, ApiError> {
            slot.ready_engine().await?.list_automations().await
        }

        /// `loopline automation add …`
        pub async fn automation_add(
            slot: State<'_, EngineSlot>,
            request: AutomationRequest,
        ) -> Result<Automation, ApiError> {
            slot.ready_engine().await?.add_automation(request).await
        }

        /// `loopline automation preview …` (add's flags): the builder's live preview.
        pub async fn automation_preview(
            slot: State<'_, EngineSlot>,
            request: AutomationRequest,
        ) -> Result<AutomationPreview, ApiError> {
            slot.ready_engine().await?.preview_automation(&request).await
        }

        /// `loopline automation fields`: what a condition may name.
        pub async fn automation_fields(_slot: State<'_, EngineSlot>) -> Result<Vec<ConditionField>, ApiError> {
            Ok(CONDITION_FIELDS.to_vec())
        }

        /// `loopline automation show ID`
        pub async fn automation_detail(slot: State<'_, EngineSlot>, id: String) -> Result<AutomationDetail, ApiError> {
            slot.ready_engine().await?.automation_detail(&id).await
        }

        /// `loopline automation pause ID`
        pub async fn automation_pause(slot: State<'_, EngineSlot>, id: String) -> Result<Automation, ApiError> {
            slot.ready_engine().await?.pause_automation(&id, true).await
        }

        /// `loopline automation resume ID`
        pub async fn automation_resume(slot: State<'_, EngineSlot>, id: String) -> Result<Automation, ApiError> {
            slot.ready_engine().await?.pause_automation(&id, false).await
        }

        /// `loopline automation remove ID`
        pub async fn automation_remove(slot: State<'_, EngineSlot>, id: String) -> Result<(), ApiError> {
            slot.ready_engine().await?.remove_automation(&id).await
        }

        /// `loopline dataset list [--automation ID]`
        pub async fn dataset_list(
            slot: State<'_, EngineSlot>,
            automation_id: Option<String>,
        ) -> Result<Vec<DatasetVersion>, ApiError> {
            slot.ready_engine().await?.list_dataset_versions(automation_id.as_deref()).await
        }

        /// `loopline dataset show VERSION`: the manifest, read from S3.
        pub async fn dataset_show(slot: State<'_, EngineSlot>, version: String) -> Result<DatasetManifest, ApiError> {
            slot.ready_engine().await?.dataset_manifest(&version).await
        }

        /// `loopline dataset diff FROM TO`
        pub async fn dataset_diff(slot: State<'_, EngineSlot>, from: String, to: String) -> Result<DatasetDiff, ApiError> {
            slot.ready_engine().await?.dataset_diff(&from, &to).await
        }

        /// `loopline models list [--pipeline P]`
        pub async fn models_list(slot: State<'_, EngineSlot>, pipeline: Option<String>) -> Result<ModelList, ApiError> {
            slot.ready_engine().await?.list_models(pipeline.as_deref(), loopline_engine::models::DEFAULT_LIMIT).await
        }

        /// `loopline models show --run ID`: the version the run registered, if any.
        pub async fn run_model(slot: State<'_, EngineSlot>, run_id: i64) -> Result<Option<ModelVersion>, ApiError> {
            slot.ready_engine().await?.run_model(run_id).await
        }

        /// `loopline models approve|reject VERSION [--note T]`
        pub async fn model_decide(
            slot: State<'_, EngineSlot>,
            version: String,
            decision: ModelDecision,
            note: Option<String>,
        ) -> Result<ModelVersion, ApiError> {
            slot.ready_engine().await?.decide_model(&version, decision, note.as_deref(), None).await
        }

        /// `loopline label-studio hook --source ID --project N --public-url URL`
        pub async fn label_studio_hook(
            slot: State<'_, EngineSlot>,
            source_id: String,
            project_id: i64,
            public_url: String,
        ) -> Result<HookRegistration, ApiError> {
            slot.ready_engine().await?
                .label_studio_hook(&source_id, project_id, &public_url)
                .await
        }

        /// `loopline tunnel status`: what the keeper reports, or why nothing keeps it.
        pub async fn tunnel_status(slot: State<'_, EngineSlot>) -> Result<TunnelStatus, ApiError> {
            slot.ready_engine().await?.tunnel_status().await
        }

        /// `loopline tunnel set …`: the app's own keeper picks it up at once.
        pub async fn tunnel_set(slot: State<'_, EngineSlot>, config: TunnelConfig) -> Result<TunnelStatus, ApiError> {
            slot.ready_engine().await?.set_tunnel(config).await
        }

        /// `loopline tunnel off`.
        pub async fn tunnel_off(slot: State<'_, EngineSlot>) -> Result<TunnelStatus, ApiError> {
            slot.ready_engine().await?.tunnel_off().await
        }

        /// `loopline label-studio hook-policy`: recreate or only report a deleted webhook.
        pub async fn deleted_hook_policy(slot: State<'_, EngineSlot>) -> Result<DeletedHookPolicy, ApiError> {
            slot.ready_engine().await?.deleted_hook_policy().await
        }

        /// `loopline label-studio hook-policy --if-deleted recreate|report`
        pub async fn deleted_hook_policy_set(
            slot: State<'_, EngineSlot>,
            policy: DeletedHookPolicy,
        ) -> Result<DeletedHookPolicy, ApiError> {
            slot.ready_engine().await?.set_deleted_hook_policy(policy).await
        }

        /// `loopline setup s3 --plan`: what the storage setup would do, doing nothing.
        pub async fn setup_storage_plan(slot: State<'_, EngineSlot>, request: StorageRequest) -> Result<SetupReport, ApiError> {
            slot.ready_engine().await?.setup_storage(request, true, None, None).await
        }

        /// `loopline setup s3`, in the background: poll `setup_storage_job` for progress.
        pub async fn setup_storage_start(slot: State<'_, EngineSlot>, request: StorageRequest) -> Result<SetupJob, ApiError> {
            slot.ready_engine().await?.start_storage_setup(request)
        }

        /// The background storage setup's progress, then its report.
        pub async fn setup_storage_job(slot: State<'_, EngineSlot>) -> Result<SetupJob, ApiError> {
            slot.ready_engine().await?.storage_setup_job()
        }

        /// Ctrl-C in `loopline setup s3`: stops between files; what went up stays up.
        pub async fn setup_storage_cancel(slot: State<'_, EngineSlot>) -> Result<SetupJob, ApiError> {
            slot.ready_engine().await?.cancel_storage_setup()
        }

        /// `loopline setup sagemaker --plan`: the execution role and its policy, shown, not made.
        pub async fn setup_role_plan(slot: State<'_, EngineSlot>, request: RoleRequest) -> Result<SetupReport, ApiError> {
            slot.ready_engine().await?.setup_role(request, true).await
        }

        /// `loopline setup sagemaker`: creates (or checks) the execution role and its policy.
        pub async fn setup_role(slot: State<'_, EngineSlot>, request: RoleRequest) -> Result<SetupReport, ApiError> {
            slot.ready_engine().await?.setup_role(request, false).await
        }

        /// `loopline setup label-studio --plan`: the project, storages and webhook, shown, not made.
        pub async fn setup_labeling_plan(slot: State<'_, EngineSlot>, request: LabelingRequest) -> Result<SetupReport, ApiError> {
            slot.ready_engine().await?.setup_label_studio(request, true).await
        }

        /// `loopline setup label-studio`: creates (or checks) the project, storages and webhook.
        pub async fn setup_labeling(slot: State<'_, EngineSlot>, request: LabelingRequest) -> Result<SetupReport, ApiError> {
            slot.ready_engine().await?.setup_label_studio(request, false).await
        }

        /// `loopline setup check`: one test annotation through the public URL, end to end, removed after.
        pub async fn setup_check(slot: State<'_, EngineSlot>, source: String, project: i64) -> Result<SetupReport, ApiError> {
            slot.ready_engine().await?.check_loop(&source, project).await
        }

        /// Ctrl-C in `loopline setup check|label-studio|sagemaker`: the work stops at its next
        /// wait, cleans up and reports what was done. Whether that work was running.
        pub async fn setup_cancel(slot: State<'_, EngineSlot>, work: SetupWork) -> Result<bool, ApiError> {
            Ok(slot.ready_engine().await?.cancel_setup(work))
        }

        /// What the last labeling setup chose (project, storages, source), for the next steps.
        pub async fn labeling_choice(slot: State<'_, EngineSlot>) -> Result<Option<LabelingChoice>, ApiError> {
            slot.ready_engine().await?.labeling_choice().await
        }

        /// The pipeline the training setup chose (created or picked), by name.
        pub async fn chosen_pipeline_name(slot: State<'_, EngineSlot>) -> Result<Option<String>, ApiError> {
            Ok(slot.ready_engine().await?.chosen_pipeline().await?.map(|p| p.name))
        }

        /// When Setup was first opened (ms since the epoch); set on the first call.
        pub async fn setup_started(slot: State<'_, EngineSlot>) -> Result<i64, ApiError> {
            slot.ready_engine().await?.setup_started().await
        }

        /// `loopline setup status`
        pub async fn setup_status(slot: State<'_, EngineSlot>) -> Result<Vec<SetupStep>, ApiError> {
            slot.ready_engine().await?.setup_status().await
        }

        /// The bucket and prefixes the storage setup saved, for the form and the next steps.
        pub async fn storage_layout(slot: State<'_, EngineSlot>) -> Result<Option<StorageLayout>, ApiError> {
            slot.ready_engine().await?.storage_layout().await
        }

        /// `loopline aquarium list`
        pub async fn aquarium_issues(slot: State<'_, EngineSlot>) -> Result<Vec<AquariumIssueSummary>, ApiError> {
            slot.ready_engine().await?.aquarium_issues().await
        }

        /// `loopline aquarium show ISSUE`
        pub async fn aquarium_issue(slot: State<'_, EngineSlot>, issue_id: String) -> Result<AquariumIssue, ApiError> {
            slot.ready_engine().await?.aquarium_issue(&issue_id).await
        }

        /// `loopline aquarium export … --dry-run`
        pub async fn aquarium_export_preview(slot: State<'_, EngineSlot>, request: ExportRequest) -> Result<ExportPreview, ApiError> {
            slot.ready_engine().await?.preview_export(&request).await
        }

        /// `loopline aquarium export …` (queued; the background worker sends it)
        pub async fn aquarium_export(slot: State<'_, EngineSlot>, request: ExportRequest) -> Result<ExportReport, ApiError> {
            slot.ready_engine().await?.export_issue(&request).await
        }

        /// `loopline aquarium exports [ISSUE]`
        pub async fn aquarium_exports(slot: State<'_, EngineSlot>, issue_id: Option<String>) -> Result<Vec<ExportReport>, ApiError> {
            slot.ready_engine().await?.aquarium_exports(issue_id.as_deref()).await
        }

        /// `loopline aquarium hosts`
        pub async fn image_hosts(slot: State<'_, EngineSlot>) -> Result<Vec<String>, ApiError> {
            slot.ready_engine().await?.image_hosts().await
        }

        /// `loopline aquarium hosts --allow HOST` (or `--forbid HOST`)
        pub async fn image_host_allow(slot: State<'_, EngineSlot>, host: String, allow: bool) -> Result<Vec<String>, ApiError> {
            slot.ready_engine().await?.allow_image_host(&host, allow).await
        }

        /// One review thumbnail as a data URL, from an allowed host only.
        pub async fn aquarium_thumbnail(slot: State<'_, EngineSlot>, url: String) -> Result<String, ApiError> {
            slot.ready_engine().await?.thumbnail(&url).await
        }

        /// `loopline tunnel test`: one self-test through the public URL now.
        pub async fn tunnel_test(slot: State<'_, EngineSlot>) -> Result<TunnelTest, ApiError> {
            slot.ready_engine().await?.tunnel_test().await
        }
    }
    with_app {
        /// Quit Loopline (the tray's Quit, also in Settings for desktops without a tray).
        pub async fn app_quit<R: Runtime>(app: AppHandle<R>, _slot: State<'_, EngineSlot>) -> Result<(), ApiError> {
            crate::tray_actions::quit(&app);
            Ok(())
        }

        /// `loopline db restore`, then the engine starts on the restored database (the
        /// recovery screen's button; refused while an engine has the database open).
        pub async fn db_restore<R: Runtime>(
            app: AppHandle<R>,
            slot: State<'_, EngineSlot>,
        ) -> Result<DbRestore, ApiError> {
            let restored =
                loopline_engine::restore_database(slot.data_dir().as_deref(), &loopline_engine::SystemClock).await?;
            let opened = crate::slot::open_engine(&slot.launch()).await;
            if let Ok(engine) = &opened {
                crate::attach(&app, engine);
            }
            let result = opened.as_ref().map(|_| restored).map_err(Clone::clone);
            slot.replace(opened);
            result
        }

        /// The engine error screen's "Try again": opens the data directory again, once the
        /// cause is fixed (a folder made writable, another Loopline closed). The CLI's twin is
        /// running the command again. A running engine is left as it is.
        pub async fn engine_retry<R: Runtime>(
            app: AppHandle<R>,
            slot: State<'_, EngineSlot>,
        ) -> Result<AppInfo, ApiError> {
            if let Ok(engine) = slot.ready_engine().await {
                return engine.info().await;
            }
            reopen(&app, &slot).await
        }

        /// The engine error screen's "Use another folder": this session's data lives in `dir`
        /// (the CLI's twin is `--data-dir DIR`). A running engine is left as it is.
        pub async fn engine_open_data_dir<R: Runtime>(
            app: AppHandle<R>,
            slot: State<'_, EngineSlot>,
            data_dir: String,
        ) -> Result<AppInfo, ApiError> {
            if slot.ready_engine().await.is_ok() {
                return Err(ApiError::new(
                    ErrorCode::InvalidArgument,
                    "Loopline is already running on its data directory. Quit it and start it with --data-dir DIR to use another.",
                ));
            }
            let dir = std::path::PathBuf::from(data_dir.trim());
            if !dir.is_absolute() {
                return Err(ApiError::new(
                    ErrorCode::InvalidArgument,
                    format!("'{}' is not a full path. Give the folder's full path, e.g. /home/you/loopline-data.", dir.display()),
                ));
            }
            slot.set_data_dir(dir);
            reopen(&app, &slot).await
        }

        /// Opens a run's page in the AWS console in the user's browser. The address comes from the
        /// engine's own record of the run, so the webview cannot make the shell open anything else.
        pub async fn run_open_console<R: Runtime>(
            app: AppHandle<R>,
            slot: State<'_, EngineSlot>,
            id: i64,
        ) -> Result<(), ApiError> {
            let run = slot.ready_engine().await?.run(id).await?;
            let url = run.console_url.ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    format!("Run {id} has no execution in AWS yet, so there is no console page to open."),
                )
            })?;
            app.opener().open_url(&url, None::<&str>).map_err(|e| {
                ApiError::new(
                    ErrorCode::Internal,
                    format!("Could not open a browser ({e}). The address is {url}"),
                )
            })
        }
    }
}

/// Opens the engine as the slot's launch arguments say, attaches it to the window and puts
/// it in the slot: its info, or why it did not open (kept as the startup error the screen shows).
async fn reopen<R: Runtime>(app: &AppHandle<R>, slot: &EngineSlot) -> Result<AppInfo, ApiError> {
    let opened = crate::slot::open_engine(&slot.launch()).await;
    if let Ok(engine) = &opened {
        crate::attach(app, engine);
    }
    let info = match &opened {
        Ok(engine) => engine.info().await,
        Err(e) => Err(e.clone()),
    };
    slot.replace(opened);
    info
}
