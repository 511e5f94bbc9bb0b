// Node's http server sending 103 Early Hints before its answer, as a page server does.
// Usage: node early_hints.js ADDRESS PORT. "/" answers "ok\n" with Content-Length;
// "/chunked" answers in two writes, which Node sends in chunks.
"use strict";
const http = require("http");
const [address, port] = process.argv.slice(2);
http
  .createServer((req, res) => {
    res.writeEarlyHints({ link: "</style.css>; rel=preload; as=style" });
    if (req.url === "/chunked") {
      res.write("early ");
      res.end("hints\n");
    } else {
      res.end("ok\n");
    }
  })
  .listen(Number(port), address);
