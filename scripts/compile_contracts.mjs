// Compile the test contracts with solc-js and write their runtime bytecode (what
// anvil_setCode installs) to statetui/core/contracts/bytecode.json.
import { createRequire } from 'node:module'
import { readFileSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'

const require = createRequire(import.meta.url)
const solc = require('solc')
const dir = 'statetui/core/contracts'
const names = ['TestERC20', 'TestERC1155', 'TestConditionalTokens', 'TestExchange']

const sources = {}
for (const name of names) sources[`${name}.sol`] = { content: readFileSync(`${dir}/${name}.sol`, 'utf8') }

const input = {
  language: 'Solidity',
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    // cancun: supported by anvil and by Polygon PoS, so the code behaves as a real token would
    evmVersion: 'cancun',
    outputSelection: { '*': { '*': ['evm.deployedBytecode.object'] } },
  },
}
const output = JSON.parse(solc.compile(JSON.stringify(input)))
const errors = (output.errors || []).filter((e) => e.severity === 'error')
if (errors.length) {
  for (const e of errors) console.error(e.formattedMessage)
  process.exit(1)
}

const result = { solc: solc.version(), evmVersion: input.settings.evmVersion, contracts: {} }
for (const name of names) {
  const content = sources[`${name}.sol`].content
  result.contracts[name] = {
    source: `${name}.sol`,
    source_sha256: createHash('sha256').update(content).digest('hex'),
    runtime: '0x' + output.contracts[`${name}.sol`][name].evm.deployedBytecode.object,
  }
}
const text = JSON.stringify(result, null, 2) + '\n'
const target = `${dir}/bytecode.json`
if (process.argv.includes('--check')) {
  const committed = readFileSync(target, 'utf8')
  if (committed !== text) {
    console.error(`${target} is out of date: run bash scripts/compile_contracts.sh`)
    process.exit(1)
  }
  console.log(`${target} matches the sources`)
} else {
  writeFileSync(target, text)
  console.log(`wrote ${target}`)
}
