/**
 * Scores leads with an exported LeadPulse model through onnxruntime-node: the serving path (API and
 * workers load the registry's ONNX bytes), independent of the trainer's own tree code.
 */
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { ONNX_INPUT_NAME, ONNX_PROBABILITIES_OUTPUT, onnxFeatureCount } from './onnx-export';

export interface OnnxScorer {
  /** Length of the feature vector the model expects. */
  readonly featureCount: number;
  /** Probability of class 1 (leases) for each row, in one inference run. */
  predict(rows: Float32Array[]): Promise<Float64Array>;
  /** Frees the native session. */
  release(): Promise<void>;
}

export async function loadOnnxScorer(bytes: Uint8Array): Promise<OnnxScorer> {
  const featureCount = onnxFeatureCount(bytes);
  // One intra-op thread: a tree ensemble over a few dozen rows is microseconds of work, thread hand-offs would
  // cost more than they save, and a fixed summation order keeps results identical run to run.
  const session = await InferenceSession.create(bytes, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  let released = false;

  return {
    featureCount,
    async predict(rows) {
      if (released) throw new Error('ONNX scorer already released');
      if (rows.length === 0) return new Float64Array(0);
      const input = new Float32Array(rows.length * featureCount);
      rows.forEach((row, i) => {
        if (row.length !== featureCount) {
          throw new Error(`row ${i} has ${row.length} features, the model expects ${featureCount}`);
        }
        input.set(row, i * featureCount);
      });
      const tensor = new Tensor('float32', input, [rows.length, featureCount]);
      // Fetch only the probabilities: the label output is an int64 tensor we have no use for.
      const outputs = await session.run({ [ONNX_INPUT_NAME]: tensor }, [ONNX_PROBABILITIES_OUTPUT]);
      const probabilities = outputs[ONNX_PROBABILITIES_OUTPUT];
      if (!probabilities || !(probabilities.data instanceof Float32Array)) {
        throw new Error(`ONNX model returned no float "${ONNX_PROBABILITIES_OUTPUT}" output`);
      }
      if (probabilities.data.length !== rows.length * 2) {
        throw new Error(`expected ${rows.length} x 2 probabilities, got ${probabilities.data.length} values`);
      }
      const result = new Float64Array(rows.length);
      for (let i = 0; i < rows.length; i++) result[i] = probabilities.data[i * 2 + 1]!;
      return result;
    },
    async release() {
      if (released) return;
      released = true;
      await session.release();
    },
  };
}
