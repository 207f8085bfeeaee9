// Content negotiation as the real server's OpenAPI handlers do it (kube-openapi with goautoneg): the
// Accept header's clauses by quality (then specificity), each matched against the offered types in
// order, `*` matching any; an absent header means `*/*`. Hostile headers are bounded: at most 64
// clauses of at most 256 characters each are read; malformed clauses and q=0 are skipped.
export interface AcceptClause { type: string; subType: string; q: number }

const MAX_CLAUSES = 64;
const MAX_CLAUSE_LENGTH = 256;

export function parseAccept(header: string | undefined): AcceptClause[] {
  const clauses: Array<AcceptClause & { i: number }> = [];
  const parts = (header === undefined || header.trim() === '' ? '*/*' : header).split(',', MAX_CLAUSES);
  parts.forEach((part, i) => {
    if (part.length > MAX_CLAUSE_LENGTH) return;
    const [range, ...params] = part.split(';');
    const m = /^\s*([^\s/]+)\/([^\s/]+)\s*$/.exec(range ?? '');
    if (!m) return;
    let q = 1;
    for (const p of params) {
      const qm = /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p);
      if (qm) q = Number(qm[1]);
    }
    if (!Number.isFinite(q) || q <= 0 || q > 1) return;
    clauses.push({ type: m[1]!.toLowerCase(), subType: m[2]!.toLowerCase(), q, i });
  });
  const specificity = (c: AcceptClause) => (c.type === '*' ? 0 : 1) + (c.subType === '*' ? 0 : 1);
  clauses.sort((a, b) => b.q - a.q || specificity(b) - specificity(a) || a.i - b.i);
  return clauses.map(({ type, subType, q }) => ({ type, subType, q }));
}

/** The first offered media type (`type/subtype`) the header accepts, in the header's preference order. */
export function negotiate<T extends { mediaType: string }>(header: string | undefined, offers: readonly T[]): T | undefined {
  for (const clause of parseAccept(header)) {
    for (const offer of offers) {
      const [type, subType] = offer.mediaType.toLowerCase().split('/') as [string, string];
      if ((clause.type === type || clause.type === '*') && (clause.subType === subType || clause.subType === '*')) return offer;
    }
  }
  return undefined;
}
