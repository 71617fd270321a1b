// Copies the browser builds of the pinned front-end libraries into ui/vendor/ (no bundler needed).
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
const out = path.join(root, "ui", "vendor");
const files = {
  "chart.umd.min.js": "node_modules/chart.js/dist/chart.umd.min.js",
  "purify.min.js": "node_modules/dompurify/dist/purify.min.js",
  "marked.umd.js": "node_modules/marked/lib/marked.umd.js",
};
fs.mkdirSync(out, { recursive: true });
for (const [name, rel] of Object.entries(files)) {
  const src = path.join(root, rel);
  if (!fs.existsSync(src)) {
    console.error(`missing ${rel}: run npm ci`);
    process.exit(1);
  }
  fs.copyFileSync(src, path.join(out, name));
}
console.log(`ui/vendor: ${Object.keys(files).join(", ")}`);
