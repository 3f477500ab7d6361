/**
 * The shapes ml/ exchanges with the rest of the platform (stored in leadpulse_models, sent to the API).
 * Pure data: JSON-serialisable, no functions.
 */

/** One node of a regression tree. Leaves have `leaf` set and no children. */
export interface TreeNode {
  /** Index into the encoded feature vector; -1 on leaves. */
  feature: number;
  /** Go left when `x[feature] <= threshold` (ONNX BRANCH_LEQ). A float32 value, so ONNX compares the same. */
  threshold: number;
  left: number;
  right: number;
  /** Leaf output (already multiplied by the learning rate), a float32 value; 0 on internal nodes. */
  leaf: number | null;
  /** Mean raw score (log-odds contribution) of training rows reaching this node: for top-factor attribution. */
  value: number;
  /** Training rows that reached this node. */
  cover: number;
}

export interface RegressionTree {
  nodes: TreeNode[];
}

/** Gradient-boosted trees with logistic loss: p = sigmoid(baseScore + sum of tree outputs). */
export interface GbtModel {
  kind: 'gbt';
  baseScore: number;
  trees: RegressionTree[];
  featureCount: number;
}

export interface GbtParams {
  /** Boosting rounds at most (early stopping usually keeps fewer). */
  maxRounds: number;
  learningRate: number;
  maxDepth: number;
  minChildWeight: number;
  /** L2 regularisation on leaf weights. */
  lambda: number;
  /** Stop when validation log loss has not improved for this many rounds. */
  earlyStoppingRounds: number;
  /** Candidate thresholds per feature (quantile bins). */
  maxBins: number;
}

/** Logistic regression: p = sigmoid(intercept + w·x), on standardised features (means/scales kept). */
export interface LogisticModel {
  kind: 'logistic';
  intercept: number;
  weights: number[];
  means: number[];
  scales: number[];
}

/** How a lead becomes a feature vector; stored with each model so scoring encodes exactly as training did. */
export interface FeatureSpec {
  version: 1;
  /** Sources seen often enough in training to get their own one-hot column; others go to `source_other`. */
  sources: string[];
  unitTypes: string[];
  /** Column names, in vector order (for explanations and the README). */
  names: string[];
}

/** What scoring needs to know about a lead (API `features`, or read from fact_leads). */
export interface LeadFeatureInput {
  source: string;
  /** When the lead inquired, ISO 8601. */
  receivedAt: string;
  /** IANA timezone of the property: time of day and weekday are local. */
  timezone: string;
  interactions: number;
  /** Minutes to the lead's first reply; null when they never replied (yet). */
  responseTimeMinutes: number | null;
  emailDomainClass: 'corporate' | 'free' | 'disposable' | 'none';
  hasPhone: boolean;
  unitType: string | null;
}

export interface TopFactor {
  /** Human name of the feature or group ("source: google_ads", "response time"). */
  feature: string;
  /** Contribution to the log-odds (positive raises the score). */
  impact: number;
  direction: 'up' | 'down';
}
