#!/usr/bin/env node
// A solc-compatible command around the official solc-js build (npm `solc`), for py-solc-x / ape-solidity.
//
// Answers the two calls ape-solidity makes:
//   solc --version
//   solc --standard-json [--base-path DIR] [--allow-paths DIRS]   (input JSON on stdin, output JSON on stdout)
// Sources that the input names by path only (no `content`) are read from the base path or the working
// directory, so tools that pass paths instead of contents work as well.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require(path.join(__dirname, '..', 'node_modules', 'solc'));

function argValue(args, flag) {
  const i = args.indexOf(flag);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : undefined;
}

function writeAll(text) {
  // process.stdout.write + exit can cut large outputs on a pipe; a synchronous write does not.
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(1, buf, off, buf.length - off);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
    }
  }
}

function main(args) {
  if (args.includes('--version')) {
    writeAll(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
    return 0;
  }
  if (!args.includes('--standard-json')) {
    process.stderr.write('this solc wrapper supports only --version and --standard-json\n');
    return 2;
  }
  const roots = [argValue(args, '--base-path'), process.cwd()]
    .concat((argValue(args, '--allow-paths') || '').split(','))
    .filter(Boolean);
  const findImports = (p) => {
    for (const root of roots) {
      const full = path.resolve(root, p);
      if (fs.existsSync(full)) return { contents: fs.readFileSync(full, 'utf8') };
    }
    return { error: `File not found: ${p}` };
  };
  const input = fs.readFileSync(0, 'utf8');
  writeAll(solc.compile(input, { import: findImports }));
  return 0;
}

process.exitCode = main(process.argv.slice(2));
