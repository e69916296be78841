import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import {
  defaultJobSettings,
  download,
  EngineLayer,
  HttpTransportLive,
  ProgressLive,
  SimProfile,
  SimProvider,
  StorageLive
} from "lyra"

/** An app that archives one album into `dir`, with layers of its own choosing. */
export const archiveAlbum = (dir: string) => {
  const engine = EngineLayer.make({
    providers: SimProvider.registryLayer(SimProfile.make({ seed: 7 })),
    storage: StorageLive.layer(dir),
    progress: ProgressLive.layer, // no renderer: this app prints nothing
    transport: HttpTransportLive.layer.pipe(Layer.provide(NodeHttpClient.layerUndici)),
    limits: { apiConcurrency: 4 }
  })
  return download(["sim:album:11"], { ...defaultJobSettings, tracks: 3 }).pipe(
    Effect.tap((report) => Effect.log(`${report.done} tracks done, ${report.failed} failed`)),
    Effect.provide(engine),
    Effect.provide(NodeContext.layer)
  )
}
