/**
 * Exports a trained GbtModel as an ONNX model: one `ai.onnx.ml` TreeEnsembleClassifier node, so any ONNX
 * runtime (onnxruntime-node here) scores it without our code. Binary classification in onnxruntime's
 * convention: class labels [0, 1], every leaf weight on class id 0, LOGISTIC post-transform; the
 * `probabilities` output's second column is then sigmoid(base + sum of leaves), the trainer's own probability.
 */
import onnxProto from 'onnx-proto';
import type { GbtModel } from './types';

const { onnx } = onnxProto;

export const ONNX_INPUT_NAME = 'features';
export const ONNX_PROBABILITIES_OUTPUT = 'probabilities';
export const ONNX_LABEL_OUTPUT = 'label';
/** TreeEnsembleClassifier exists from ai.onnx.ml opset 1; 3 is the version before it was deprecated (5). */
const ML_OPSET = 3;
const DEFAULT_OPSET = 17;
/** IR version 8 (ONNX 1.10+), which onnxruntime 1.x loads. */
const IR_VERSION = 8;

export interface OnnxExportOptions {
  /** Stored in the model's doc string and metadata (e.g. "leadpulse org … v3"). */
  description?: string;
  /** Extra metadata_props (model version, feature spec hash, ...). */
  metadata?: Record<string, string>;
}

export function exportGbtToOnnx(model: GbtModel, options: OnnxExportOptions = {}): Uint8Array {
  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const featureIds: number[] = [];
  const values: number[] = [];
  const modes: Uint8Array[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  const missingTracksTrue: number[] = [];
  const classTreeIds: number[] = [];
  const classNodeIds: number[] = [];
  const classIds: number[] = [];
  const classWeights: number[] = [];

  const BRANCH = bytes('BRANCH_LEQ');
  const LEAF = bytes('LEAF');

  // The operator needs at least one node: a model without trees is a single leaf of weight 0.
  const trees = model.trees.length > 0 ? model.trees : [{ nodes: [leafNode(0)] }];
  trees.forEach((tree, t) => {
    tree.nodes.forEach((node, i) => {
      treeIds.push(t);
      nodeIds.push(i);
      if (node.leaf !== null) {
        featureIds.push(0);
        values.push(0);
        modes.push(LEAF);
        trueIds.push(0);
        falseIds.push(0);
        classTreeIds.push(t);
        classNodeIds.push(i);
        classIds.push(0);
        classWeights.push(assertFloat32(node.leaf, 'leaf value'));
      } else {
        if (node.feature < 0 || node.feature >= model.featureCount) {
          throw new Error(`tree ${t} node ${i} splits on feature ${node.feature} of ${model.featureCount}`);
        }
        featureIds.push(node.feature);
        values.push(assertFloat32(node.threshold, 'threshold'));
        modes.push(BRANCH);
        // BRANCH_LEQ: x <= threshold goes to the "true" child, which is our left child.
        trueIds.push(node.left);
        falseIds.push(node.right);
      }
      missingTracksTrue.push(0);
    });
  });

  const ints = (name: string, list: number[]) => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: list });
  const floats = (name: string, list: number[]) => ({
    name,
    type: onnx.AttributeProto.AttributeType.FLOATS,
    floats: list,
  });

  const node = onnx.NodeProto.create({
    name: 'leadpulse_gbt',
    opType: 'TreeEnsembleClassifier',
    domain: 'ai.onnx.ml',
    input: [ONNX_INPUT_NAME],
    output: [ONNX_LABEL_OUTPUT, ONNX_PROBABILITIES_OUTPUT],
    attribute: [
      ints('classlabels_int64s', [0, 1]),
      ints('nodes_treeids', treeIds),
      ints('nodes_nodeids', nodeIds),
      ints('nodes_featureids', featureIds),
      floats('nodes_values', values),
      { name: 'nodes_modes', type: onnx.AttributeProto.AttributeType.STRINGS, strings: modes },
      ints('nodes_truenodeids', trueIds),
      ints('nodes_falsenodeids', falseIds),
      ints('nodes_missing_value_tracks_true', missingTracksTrue),
      ints('class_treeids', classTreeIds),
      ints('class_nodeids', classNodeIds),
      ints('class_ids', classIds),
      floats('class_weights', classWeights),
      floats('base_values', [assertFloat32(model.baseScore, 'base score')]),
      { name: 'post_transform', type: onnx.AttributeProto.AttributeType.STRING, s: bytes('LOGISTIC') },
    ],
  });

  const tensorType = (elemType: number, dims: (string | number)[]) => ({
    tensorType: {
      elemType,
      shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
    },
  });
  const { FLOAT, INT64 } = onnx.TensorProto.DataType;

  const graph = onnx.GraphProto.create({
    name: 'leadpulse',
    node: [node],
    input: [{ name: ONNX_INPUT_NAME, type: tensorType(FLOAT, ['N', model.featureCount]) }],
    output: [
      { name: ONNX_LABEL_OUTPUT, type: tensorType(INT64, ['N']) },
      { name: ONNX_PROBABILITIES_OUTPUT, type: tensorType(FLOAT, ['N', 2]) },
    ],
  });

  const docString =
    options.description ??
    `LeadPulse lead scoring: ${model.trees.length} gradient-boosted trees over ${model.featureCount} features; ` +
      `probabilities[:, 1] is the probability that the lead leases.`;
  const proto = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'p11-console ml/onnx-export',
    producerVersion: '1',
    domain: 'com.p11.leadpulse',
    modelVersion: 1,
    docString,
    graph,
    opsetImport: [
      { domain: '', version: DEFAULT_OPSET },
      { domain: 'ai.onnx.ml', version: ML_OPSET },
    ],
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(proto).finish();
}

/** The feature count the model's input declares (its second dimension). */
export function onnxFeatureCount(bytesOfModel: Uint8Array): number {
  const model = onnx.ModelProto.decode(bytesOfModel);
  const input = model.graph?.input?.find((i) => i.name === ONNX_INPUT_NAME);
  const dim = input?.type?.tensorType?.shape?.dim?.[1];
  const value = dim?.dimValue;
  const count = typeof value === 'number' ? value : value ? Number(value.toString()) : NaN;
  if (!Number.isInteger(count) || count <= 0) throw new Error(`ONNX model has no "${ONNX_INPUT_NAME}" [N, k] input`);
  return count;
}

function leafNode(value: number) {
  return { feature: -1, threshold: 0, left: 0, right: 0, leaf: value, value, cover: 0 };
}

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** ONNX stores these as float32: a value that is not one would be rounded and could route rows differently. */
function assertFloat32(value: number, what: string): number {
  if (!Number.isFinite(value) || Math.fround(value) !== value) {
    throw new Error(`${what} ${value} is not a finite float32 value`);
  }
  return value;
}
