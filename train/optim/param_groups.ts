// Parameter groups for AdamW: which parameters get weight decay. The default is the usual LLM rule —
// decay on every ≥2-D weight (linear layers, embeddings, MoE routers and stacked experts), none on 1-D
// ones (RMSNorm weights, q_norm/k_norm). Groups can also be given by Hugging Face parameter names, as a
// golden trajectory lists them; stacked tensors (all experts of a layer in one) map back to those names.

import type { Tensor } from '../../core/index.js';
import type { Module } from '../../model/modules/module.js';

/** A set of parameters sharing one weight decay. Parameters are named as `namedParameters()` names them. */
export interface ParamGroup {
  weightDecay: number;
  params: [string, Tensor][];
}

/** Decay `weightDecay` on ≥2-D parameters, none on 1-D (and 0-D) ones. Empty groups are left out. */
export function defaultParamGroups(named: readonly [string, Tensor][], weightDecay: number): ParamGroup[] {
  if (!Number.isFinite(weightDecay) || weightDecay < 0)
    throw new Error(`defaultParamGroups: weightDecay must be a finite number ≥ 0, got ${weightDecay}`);
  const decay = named.filter(([, t]) => t.ndim >= 2);
  const noDecay = named.filter(([, t]) => t.ndim < 2);
  const groups: ParamGroup[] = [];
  if (decay.length > 0) groups.push({ weightDecay, params: [...decay] });
  if (noDecay.length > 0) groups.push({ weightDecay: 0, params: [...noDecay] });
  return groups;
}

/**
 * The HF names each parameter appears under in the state dict: one name for most, one per expert for
 * stacked experts (a tied lm_head is not in the state dict, so a tied embedding has one). Found by
 * storage identity, so it works for any module that maps its storage to HF names through views.
 */
export function hfNamesOf(model: Module): Map<string, string[]> {
  const byStorage = new Map<unknown, string>();
  for (const [name, t] of model.namedParameters()) byStorage.set(t.storage, name);
  const out = new Map<string, string[]>();
  for (const [hf, t] of model.stateDict()) {
    const owner = byStorage.get(t.storage);
    if (owner === undefined) throw new Error(`hfNamesOf: state-dict entry '${hf}' shares storage with no parameter`);
    const names = out.get(owner) ?? [];
    names.push(hf);
    out.set(owner, names);
  }
  return out;
}

/** Groups listed by HF names (e.g. trajectory.json's optimizer.param_groups); every parameter exactly once. */
export interface NamedGroupSpec {
  weightDecay: number;
  params: readonly string[];
}

export function paramGroupsFromHfNames(model: Module, spec: readonly NamedGroupSpec[]): ParamGroup[] {
  const groupOf = new Map<string, number>();
  spec.forEach((g, i) => {
    for (const hf of g.params) {
      if (groupOf.has(hf)) throw new Error(`paramGroupsFromHfNames: '${hf}' is in groups ${groupOf.get(hf)} and ${i}`);
      groupOf.set(hf, i);
    }
  });
  const groups: ParamGroup[] = spec.map((g) => ({ weightDecay: g.weightDecay, params: [] }));
  const names = hfNamesOf(model);
  const seen = new Set<string>();
  for (const [name, t] of model.namedParameters()) {
    const hfs = names.get(name) ?? [];
    if (hfs.length === 0) throw new Error(`paramGroupsFromHfNames: parameter '${name}' has no HF name in the state dict`);
    const ids = new Set(hfs.map((hf) => groupOf.get(hf)));
    if (ids.has(undefined)) throw new Error(`paramGroupsFromHfNames: '${hfs.find((hf) => !groupOf.has(hf))}' is in no group`);
    // A stacked tensor is updated as one: all its HF names must agree (torch would allow a split, we cannot).
    if (ids.size > 1)
      throw new Error(
        `paramGroupsFromHfNames: the HF names of '${name}' (${hfs.slice(0, 3).join(', ')}, …) are in different groups`,
      );
    groups[[...ids][0]!].params.push([name, t]);
    hfs.forEach((hf) => seen.add(hf));
  }
  const unknown = [...groupOf.keys()].filter((hf) => !seen.has(hf));
  if (unknown.length > 0)
    throw new Error(
      `paramGroupsFromHfNames: ${unknown.length} name(s) are not parameters of this model: ${unknown.slice(0, 5).join(', ')}`,
    );
  return groups.filter((g) => g.params.length > 0);
}
