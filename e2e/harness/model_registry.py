"""What a pipeline execution's Metrics and RegisterModel steps would leave in moto, which runs
no pipelines: the statistics.json in S3, and the model version CreateModelPackage makes from
the RegisterModel step's arguments in the stored definition (its Gets resolved for that
execution, `MetadataProperties.GeneratedBy` set to the execution's ARN as SageMaker sets it)."""
from __future__ import annotations

import json

from harness.moto_peer import Moto


def resolve(value, known: dict):
    """A definition value as SageMaker would resolve it for one execution: `Get`s from
    `known`, `Std:Join`s joined."""
    if isinstance(value, dict) and set(value) == {"Get"}:
        return known[value["Get"]]
    if isinstance(value, dict) and set(value) == {"Std:Join"}:
        j = value["Std:Join"]
        return j.get("On", "").join(str(resolve(v, known)) for v in j["Values"])
    if isinstance(value, dict):
        return {k: resolve(v, known) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, known) for v in value]
    return value


def simulate_register_model(moto: Moto, region: str, pipeline: str, bucket: str, execution_arn: str,
                            miou: float, accuracy: float) -> str:
    """The model version `execution_arn` of `pipeline` would register, with these metrics."""
    sm, s3 = moto.client("sagemaker", region=region), moto.client("s3", region=region)
    definition = json.loads(sm.describe_pipeline(PipelineName=pipeline)["PipelineDefinition"])
    steps = {s["Name"]: s for s in definition["Steps"]}
    execution_id = execution_arn.rsplit("/", 1)[-1]
    defaults = {f"Parameters.{p['Name']}": p.get("DefaultValue") for p in definition["Parameters"]}
    known = dict(defaults, **{"Execution.PipelineExecutionId": execution_id})
    metrics_out = resolve(steps["Metrics"]["Arguments"]["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"], known)
    known["Steps.Metrics.ProcessingOutputConfig.Outputs['metrics'].S3Output.S3Uri"] = metrics_out
    known["Steps.Train.ModelArtifacts.S3ModelArtifacts"] = f"s3://{bucket}/model/pipelines-{execution_id}-Train/output/model.tar.gz"
    # What metrics.py writes (its own format), where the Metrics step's output goes.
    out_bucket, key = metrics_out[len("s3://"):].split("/", 1)
    s3.put_object(Bucket=out_bucket, Key=f"{key}/statistics.json", ContentType="application/json", Body=json.dumps(
        {"format": "loopline.model-metrics/1", "semantic_segmentation_metrics": {
            "mIOU": {"value": miou, "source": "validation:mIOU"},
            "pixel_accuracy": {"value": accuracy, "source": "validation:pixel_accuracy"}}}).encode())
    args = resolve(steps["RegisterModel"]["Arguments"], known)
    args["MetadataProperties"] = {"GeneratedBy": execution_arn}
    return sm.create_model_package(**args)["ModelPackageArn"]
