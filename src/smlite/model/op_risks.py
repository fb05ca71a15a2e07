"""Which ops are risky in a served model, and why: the table behind ``smlite scan``.

The ops below were picked from TensorFlow 2.21's op registry (tensorflow/core/ops/*.cc and
the tf.data, summary, debug and RPC kernels): every op whose kernel opens, lists, writes,
renames or deletes files, runs Python, or talks to other hosts.  Ops that only take a
*resource* created by one of these (ReaderRead, WriteScalarSummary, ...) are not listed: the
op that creates the resource is the one reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["DEFAULT_DENYLIST", "OP_RISKS", "OpRisk"]

#: ``saved_model_cli scan``'s default denylist (TF 2.21 ``_OP_DENYLIST``).
DEFAULT_DENYLIST = frozenset({"WriteFile", "ReadFile", "PrintV2"})


@dataclass(frozen=True, slots=True)
class OpRisk:
    """Why an op is a finding: the rule it breaks and the reason."""

    rule_id: str
    reason: str
    #: Only a finding under a condition checked in code (the attribute or input named here).
    condition: str | None = None


def _risks(rule_id: str, reason: str, *ops: str, condition: str | None = None) -> dict[str, OpRisk]:
    return {op: OpRisk(rule_id, reason, condition) for op in ops}


OP_RISKS: Mapping[str, OpRisk] = {
    # Reading files named by an input tensor (the path can come from a request).
    **_risks("SML601", "reads the file named by its input (tf.io.read_file)", "ReadFile"),
    **_risks(
        "SML601",
        "lists the file system with a glob pattern (tf.io.matching_files)",
        "MatchingFiles",
        "MatchingFilesDataset",
        "ExperimentalMatchingFilesDataset",
    ),
    **_risks(
        "SML601",
        "a TF1 reader: opens the files named by the queue it reads from",
        "WholeFileReader",
        "WholeFileReaderV2",
        "TextLineReader",
        "TextLineReaderV2",
        "TFRecordReader",
        "TFRecordReaderV2",
        "FixedLengthRecordReader",
        "FixedLengthRecordReaderV2",
        "LMDBReader",
    ),
    **_risks(
        "SML601",
        "a tf.data source that reads the files named by its input",
        "TextLineDataset",
        "TFRecordDataset",
        "TFRecordDatasetV2",
        "FixedLengthRecordDataset",
        "FixedLengthRecordDatasetV2",
        "CSVDataset",
        "CSVDatasetV2",
        "ExperimentalCSVDataset",
        "LMDBDataset",
        "ExperimentalLMDBDataset",
        "LoadDataset",
        "SnapshotDatasetReader",
        "SnapshotNestedDatasetReader",
        "SnapshotChunkDataset",
        "ListSnapshotChunksDataset",
    ),
    **_risks(
        "SML601",
        "runs an SQL query against a database file (tf.data SqlDataset)",
        "SqlDataset",
        "ExperimentalSqlDataset",
    ),
    **_risks(
        "SML601",
        "memory-maps the file named by its memory_region_name attribute",
        "ImmutableConst",
    ),
    **_risks(
        "SML601", "reads a checkpoint file named by its ckpt_path input", "LoadAndRemapMatrix"
    ),
    **_risks(
        "SML601", "reads the two vocabulary files named by its inputs", "GenerateVocabRemapping"
    ),
    **_risks("SML601", "reads the text corpus named by its filename attribute", "Skipgram"),
    **_risks(
        "SML601",
        "reads a FileDescriptorSet from the file named by descriptor_source",
        "DecodeProtoV2",
        "EncodeProto",
        condition="descriptor_source",
    ),
    # Writing files.
    **_risks(
        "SML602",
        "writes its input to the file named by its filename input (tf.io.write_file)",
        "WriteFile",
    ),
    **_risks(
        "SML602",
        "writes a dataset to files under a path",
        "DatasetToTFRecord",
        "ExperimentalDatasetToTFRecord",
        "SaveDataset",
        "SaveDatasetV2",
        "DistributedSave",
        "SnapshotDataset",
        "SnapshotDatasetV2",
    ),
    **_risks(
        "SML602",
        "caches a dataset in files when its filename input is not empty",
        "CacheDataset",
        "CacheDatasetV2",
        condition="filename",
    ),
    **_risks("SML602", "changes file-system settings of the process", "FileSystemSetConfiguration"),
    # Python.
    **_risks(
        "SML603",
        "calls a Python function registered in the exporting process "
        "(tf.py_function / tf.numpy_function)",
        "PyFunc",
        "PyFuncStateless",
        "EagerPyFunc",
    ),
    # Debugger dumps.
    **_risks(
        "SML604",
        "tfdbg op: sends tensors to the file:// or grpc:// URLs in debug_urls",
        "DebugIdentity",
        "DebugIdentityV2",
        "DebugIdentityV3",
        "DebugNanCount",
        "DebugNumericSummary",
        condition="debug_urls",
    ),
    # Network.
    **_risks(
        "SML605",
        "tf.distribute RPC op: connects to or serves other hosts",
        "RpcClient",
        "RpcCall",
        "RpcServer",
        "RpcServerStart",
        "RpcServerRegister",
    ),
    **_risks(
        "SML605",
        "reads from or registers with a tf.data service at a network address",
        "DataServiceDataset",
        "DataServiceDatasetV2",
        "DataServiceDatasetV3",
        "DataServiceDatasetV4",
        "RegisterDataset",
        "RegisterDatasetV2",
    ),
    # Saving and restoring checkpoints (fine inside the model's own saver).
    **_risks(
        "SML606",
        "writes checkpoint files to a path given at run time",
        "Save",
        "SaveSlices",
        "SaveV2",
    ),
    **_risks(
        "SML606",
        "reads checkpoint files from a path given at run time",
        "Restore",
        "RestoreSlice",
        "RestoreV2",
    ),
    **_risks("SML606", "merges checkpoint files and deletes the originals", "MergeV2Checkpoints"),
    # Lookup tables from text files (fine when the file is one of the model's assets).
    **_risks(
        "SML607",
        "initializes a lookup table from the text file named by its filename input",
        "InitializeTableFromTextFile",
        "InitializeTableFromTextFileV2",
        condition="filename",
    ),
    # Printing to a file.
    **_risks(
        "SML608",
        "appends to the file named in output_stream (file://...)",
        "PrintV2",
        condition="output_stream",
    ),
    # Summary writers.
    **_risks(
        "SML612",
        "creates a summary writer that writes event files or a database",
        "CreateSummaryFileWriter",
        "CreateSummaryDbWriter",
    ),
}
