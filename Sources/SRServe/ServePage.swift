// The page of `srgan-dist serve`: one HTML document with its CSS and JS inline, so the binary
// serves it with no files beside it. It sends the chosen file as the raw body of POST upscale,
// shows the two PNGs it gets back (as blob: URLs) side by side, zooms both panels the same way
// (pixelated, so single pixels can be compared), scrolls them together, and offers the model's
// PNG as a download. Element ids are what the browser test (scripts/browser_test.py) drives:
// #file, #go, #status, #error, #zoom, #zoom-in, #zoom-out, #zoom-value, #bicubic, #model,
// #bicubic-view, #model-view, #download, #info.

import Foundation
import SRTrain

public enum ServePage {
    public static func html(model: TrainedModel, limits: UploadLimits) -> String {
        let summary = escape(model.generator.summary)
        let megabytes = ServeRoutes.number(Double(limits.maxBytes) / 1e6)
        let megapixels = ServeRoutes.number(Double(limits.maxPixels) / 1e6)
        return #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>srgan-dist: super-resolution x\#(model.scale)</title>
        <style>
          :root { --ink: #1d2430; --muted: #5b6575; --line: #d5dae2; --accent: #2458d6; --bad: #b3261e; }
          * { box-sizing: border-box; }
          [hidden] { display: none !important; }
          body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #f5f6f8; }
          header { padding: 14px 20px; background: #fff; border-bottom: 1px solid var(--line); }
          header h1 { margin: 0; font-size: 19px; }
          header p { margin: 2px 0 0; color: var(--muted); font-size: 13px; }
          main { padding: 14px 20px 24px; }
          .controls { display: flex; flex-wrap: wrap; align-items: center; gap: 10px 14px; padding: 12px 14px;
                      background: #fff; border: 1px solid var(--line); border-radius: 8px; }
          .controls .group { display: flex; align-items: center; gap: 6px; }
          button { font: inherit; padding: 5px 12px; border: 1px solid var(--line); border-radius: 6px; background: #fff; cursor: pointer; }
          button:hover:enabled { border-color: var(--accent); }
          button:disabled { opacity: 0.5; cursor: default; }
          #go { background: var(--accent); border-color: var(--accent); color: #fff; font-weight: 600; }
          #zoom { width: 160px; }
          #zoom-value { min-width: 3.2em; font-variant-numeric: tabular-nums; }
          #download { font-weight: 600; color: var(--accent); }
          .note { color: var(--muted); font-size: 13px; }
          #status { color: var(--muted); min-height: 1.4em; margin: 10px 2px 0; }
          #error { margin: 10px 0 0; padding: 9px 12px; border: 1px solid var(--bad); border-radius: 6px;
                   background: #fdecea; color: var(--bad); font-weight: 600; }
          .panels { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; margin-top: 12px; }
          .panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
          .panel h2 { margin: 0; padding: 7px 12px; font-size: 14px; border-bottom: 1px solid var(--line); }
          .view { height: 62vh; min-height: 240px; overflow: auto;
                  background: repeating-conic-gradient(#e9ebef 0% 25%, #f7f8fa 0% 50%) 0 0 / 16px 16px; }
          .view img { display: block; image-rendering: pixelated; max-width: none; }
          .view .empty { padding: 20px; color: var(--muted); }
          body.dragging main { outline: 3px dashed var(--accent); outline-offset: -6px; }
          @media (max-width: 800px) { .panels { grid-template-columns: 1fr; } .view { height: 45vh; } }
        </style>
        </head>
        <body>
        <header>
          <h1>Super-resolution &times;\#(model.scale): bicubic beside the model</h1>
          <p>Model: \#(summary). PNG or JPEG images, up to \#(megabytes) MB and \#(megapixels) megapixels.</p>
        </header>
        <main>
          <div class="controls">
            <div class="group">
              <input type="file" id="file" accept="image/png,image/jpeg,.png,.jpg,.jpeg" aria-label="PNG or JPEG image">
              <button type="button" id="go">Upscale</button>
            </div>
            <div class="group" role="group" aria-label="Zoom">
              <button type="button" id="zoom-out" title="Zoom out" aria-label="Zoom out">&minus;</button>
              <input type="range" id="zoom" min="0.25" max="8" step="0.25" value="1" aria-label="Zoom">
              <button type="button" id="zoom-in" title="Zoom in" aria-label="Zoom in">+</button>
              <span id="zoom-value">1&times;</span>
              <button type="button" id="zoom-fit" title="Fit the width of a panel">Fit</button>
            </div>
            <a id="download" href="#" download="upscaled.png" hidden>Download the model's result (PNG)</a>
            <span class="note">Drop a PNG or JPEG anywhere on the page to choose it.</span>
          </div>
          <div id="error" role="alert" hidden></div>
          <div id="status" aria-live="polite"></div>
          <div id="info" class="note"></div>
          <div class="panels">
            <section class="panel">
              <h2>Bicubic</h2>
              <div class="view" id="bicubic-view"><div class="empty">Choose an image and press Upscale.</div><img id="bicubic" alt="Bicubic result" hidden></div>
            </section>
            <section class="panel">
              <h2>Model</h2>
              <div class="view" id="model-view"><div class="empty">The model's result appears here.</div><img id="model" alt="Model result" hidden></div>
            </section>
          </div>
        </main>
        <script>
        "use strict";
        const $ = (id) => document.getElementById(id);
        const images = [$("bicubic"), $("model")];
        const views = [$("bicubic-view"), $("model-view")];
        let objectURLs = [];

        function showError(message) {
          $("error").textContent = message;
          $("error").hidden = !message;
        }

        // Zoom: both images at naturalSize x zoom, the view's centre kept where it was.
        function setZoom(value) {
          const slider = $("zoom");
          const zoom = Math.min(Math.max(value, +slider.min), +slider.max);
          slider.value = zoom;
          const view = views[1];
          const centre = [(view.scrollLeft + view.clientWidth / 2) / Math.max(view.scrollWidth, 1),
                          (view.scrollTop + view.clientHeight / 2) / Math.max(view.scrollHeight, 1)];
          for (const image of images) {
            if (!image.naturalWidth) continue;
            image.style.width = image.naturalWidth * zoom + "px";
            image.style.height = image.naturalHeight * zoom + "px";
          }
          $("zoom-value").textContent = zoom + "\u00d7";
          view.scrollLeft = centre[0] * view.scrollWidth - view.clientWidth / 2;
          view.scrollTop = centre[1] * view.scrollHeight - view.clientHeight / 2;
        }
        $("zoom").addEventListener("input", () => setZoom(+$("zoom").value));
        $("zoom-in").addEventListener("click", () => setZoom(+$("zoom").value * 2));
        $("zoom-out").addEventListener("click", () => setZoom(+$("zoom").value / 2));
        $("zoom-fit").addEventListener("click", () => {
          const image = images[1];
          if (image.naturalWidth) setZoom(Math.floor(4 * views[1].clientWidth / image.naturalWidth) / 4);
        });

        // The two views scroll together (setting an equal position fires no event, so this settles).
        views.forEach((view, index) => view.addEventListener("scroll", () => {
          const other = views[1 - index];
          if (other.scrollLeft !== view.scrollLeft) other.scrollLeft = view.scrollLeft;
          if (other.scrollTop !== view.scrollTop) other.scrollTop = view.scrollTop;
        }));

        function pngBlob(base64) {
          const text = atob(base64);
          const bytes = new Uint8Array(text.length);
          for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
          return new Blob([bytes], { type: "image/png" });
        }

        async function upscale() {
          const file = $("file").files[0];
          showError("");
          if (!file) { showError("Choose a PNG or JPEG file first."); return; }
          $("go").disabled = true;
          const started = performance.now();
          const tick = setInterval(() => {
            $("status").textContent = "Upscaling " + file.name + "\u2026 " + ((performance.now() - started) / 1000).toFixed(1) + " s";
          }, 200);
          $("status").textContent = "Uploading " + file.name + "\u2026";
          try {
            const response = await fetch("upscale", { method: "POST", body: file, headers: { "Content-Type": file.type || "application/octet-stream" } });
            if (!response.ok) {
              const message = (await response.text()).trim();
              showError(message || "The server answered " + response.status + ".");
              $("status").textContent = "";
              return;
            }
            const result = await response.json();
            for (const url of objectURLs) URL.revokeObjectURL(url);
            objectURLs = [URL.createObjectURL(pngBlob(result.bicubic)), URL.createObjectURL(pngBlob(result.model))];
            await Promise.all(images.map((image, index) => {
              image.src = objectURLs[index];
              image.hidden = false;
              return image.decode();
            }));
            for (const view of views) view.querySelector(".empty").hidden = true;
            setZoom(+$("zoom").value);
            const stem = file.name.replace(/\.(png|jpe?g)$/i, "");
            const link = $("download");
            link.href = objectURLs[1];
            link.download = stem + "-x" + result.scale + ".png";
            link.hidden = false;
            const t = result.timings;
            $("info").textContent = result.inputWidth + "\u00d7" + result.inputHeight + " \u2192 " + result.outputWidth + "\u00d7" +
              result.outputHeight + " (\u00d7" + result.scale + "); model " + Math.round(t.modelMs) + " ms, bicubic " +
              Math.round(t.bicubicMs) + " ms, waited " + Math.round(t.queueMs) + " ms for other uploads";
            $("status").textContent = "Done: " + file.name + ".";
          } catch (error) {
            showError("The server could not be reached or answered badly (" + error.message + ").");
            $("status").textContent = "";
          } finally {
            clearInterval(tick);
            $("go").disabled = false;
          }
        }
        $("go").addEventListener("click", upscale);

        // Drag and drop a file anywhere on the page.
        document.addEventListener("dragover", (event) => { event.preventDefault(); document.body.classList.add("dragging"); });
        document.addEventListener("dragleave", () => document.body.classList.remove("dragging"));
        document.addEventListener("drop", (event) => {
          event.preventDefault();
          document.body.classList.remove("dragging");
          if (event.dataTransfer.files.length) { $("file").files = event.dataTransfer.files; upscale(); }
        });
        </script>
        </body>
        </html>
        """#
    }

    /// Text made safe to put between HTML tags.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
