/**
 * Why a lead got its score: path attribution (Saabas, as in treeinterpreter and XGBoost's approximate
 * contributions). Along the row's path through each tree, every split moves the expected output from the
 * parent's value to the child's; that change is credited to the split's feature. Per row the credits add up
 * exactly: raw score = baseScore + Σ trees' root values (the expected raw score) + Σ contributions.
 *
 * Columns are grouped into the families people think in: the two time-of-day columns are "time of day", the
 * replied flag and the minutes are "response time", and a one-hot family (source, email domain, ...) is one
 * factor named by the row's own category ("source: zillow": what being a Zillow lead, rather than any other
 * source, did to the score).
 */
import { featureFamilyOf, featureGroupOf, isOneHotFamily } from './lead-features';
import type { FeatureSpec, GbtModel, TopFactor } from './types';

/** Per-column contributions to the raw score (log-odds) of one row, and the expected raw score they start from. */
export function featureContributions(model: GbtModel, x: Float32Array): { bias: number; contributions: Float64Array } {
  if (x.length !== model.featureCount) throw new Error(`expected ${model.featureCount} features, got ${x.length}`);
  const contributions = new Float64Array(model.featureCount);
  let bias = model.baseScore;
  for (const tree of model.trees) {
    let node = tree.nodes[0]!;
    bias += node.value;
    while (node.leaf === null) {
      const child = tree.nodes[x[node.feature]! <= node.threshold ? node.left : node.right]!;
      contributions[node.feature] = contributions[node.feature]! + child.value - node.value;
      node = child;
    }
  }
  return { bias, contributions };
}

/** Contributions summed per human-readable factor, in column order of first appearance. */
export function groupedContributions(model: GbtModel, spec: FeatureSpec, x: Float32Array): Map<string, number> {
  if (spec.names.length !== model.featureCount) {
    throw new Error(`feature spec has ${spec.names.length} columns, the model ${model.featureCount}`);
  }
  const { contributions } = featureContributions(model, x);
  // A one-hot family is named by the column the row has set (exactly one per family after encodeLead).
  const activeName = new Map<string, string>();
  for (let i = 0; i < spec.names.length; i++) {
    const family = featureFamilyOf(spec, i);
    if (isOneHotFamily(family) && x[i] === 1) activeName.set(family, featureGroupOf(spec, i));
  }
  const groups = new Map<string, number>();
  for (let i = 0; i < spec.names.length; i++) {
    const family = featureFamilyOf(spec, i);
    const name = isOneHotFamily(family) ? (activeName.get(family) ?? family) : featureGroupOf(spec, i);
    groups.set(name, (groups.get(name) ?? 0) + contributions[i]!);
  }
  return groups;
}

/** The k factors that moved this lead's score most, largest |impact| first (factors with no impact left out). */
export function topFactors(model: GbtModel, spec: FeatureSpec, x: Float32Array, k = 3): TopFactor[] {
  return [...groupedContributions(model, spec, x)]
    .filter(([, impact]) => Math.abs(impact) > 1e-12)
    .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]) || a[0].localeCompare(b[0]))
    .slice(0, k)
    .map(([feature, impact]) => ({ feature, impact, direction: impact >= 0 ? 'up' : 'down' }));
}
