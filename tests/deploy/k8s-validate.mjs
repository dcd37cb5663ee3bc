// Offline validation of Kubernetes manifests against the Kubernetes schemas of the npm
// package kubernetes-models (installed by scripts/install-deps.sh from package-lock.json
// into tests/deploy/node_modules). No cluster, no network.
//   node k8s-validate.mjs [--json] FILE... ('-' reads stdin, e.g. `kubectl kustomize deploy/`)
// One line per document: "FILE: Kind/name OK", or "... INVALID: reason" on stderr.
// --json: instead, print every document as one JSON array on stdout (for the tests'
// own checks: one YAML parser for both).
// Exit 0: every document valid; 1: a YAML error, an unknown apiVersion/kind, a type or
// required-field error, or no document at all; 2: usage.
// Limit: the schemas allow unknown fields, so a misspelt optional field is not caught
// here; test_manifests.py reads the fields that matter by name.
import fs from 'node:fs';
import { parseAllDocuments } from 'yaml';

const args = process.argv.slice(2);
const asJson = args[0] === '--json';
if (asJson) args.shift();
if (args.length < 1) {
  console.error('usage: node k8s-validate.mjs [--json] FILE|- ...');
  process.exit(2);
}
let rc = 0;
let docs = 0;
const all = [];
for (const file of args) {
  const text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) {
      console.error(`${file}: YAML error: ${doc.errors[0].message}`);
      rc = 1;
      continue;
    }
    const obj = doc.toJS();
    if (!obj) continue;
    docs++;
    if (asJson) {
      all.push({ file, doc: obj });
      continue;
    }
    const where = `${file}: ${obj.kind}/${obj.metadata?.name}`;
    const [group, version] = obj.apiVersion?.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
    let Cls;
    try {
      Cls = (await import(`kubernetes-models/${group ? group + '/' : ''}${version}/${obj.kind}`))[obj.kind];
    } catch {
      Cls = undefined;
    }
    if (!Cls) {
      console.error(`${where} INVALID: unknown apiVersion/kind ${obj.apiVersion}/${obj.kind}`);
      rc = 1;
      continue;
    }
    try {
      new Cls(obj).validate();
      console.log(`${where} OK`);
    } catch (e) {
      console.error(`${where} INVALID: ${e.message}`);
      rc = 1;
    }
  }
}
if (asJson) console.log(JSON.stringify(all));
if (docs === 0) {
  console.error('no Kubernetes document found');
  rc = 1;
}
process.exit(rc);
