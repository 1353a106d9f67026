"""One GAN training step (D update, G update, EMA) under any tf.distribute strategy.

All randomness comes from stateless ops seeded by (config.seed, step), drawn for the global batch
and sliced per replica, so a step is reproducible, resumes exactly, and a mirrored run computes
the same update as one device.
"""

from __future__ import annotations

import functools

import keras
import tensorflow as tf

from gan_core.config import TrainConfig
from gan_core.models import Networks, build_generator, noise_size
from gan_core.models.dfgan import build_contrast_heads
from gan_core.models.text_encoder import sentence_dim
from gan_core.train import diffaug, losses

METRIC_NAMES = ("d_loss", "g_loss", "d_real", "d_fake", "d_wrong", "gp", "ms", "kl", "contrast")


def holds_whole_ema(path: str) -> bool:
    """Whether the saved state at `path` lists all the EMA generator's weights ("ema_weights")."""
    return any(name.split("/")[0] == "ema_weights" for name, _ in tf.train.list_variables(path))


class GANTrainer:
    """Owns the networks, the optimizers and the sampling generator (the generator's EMA when
    ema_decay > 0, else a copy of it) of one run."""

    def __init__(self, networks: Networks, config: TrainConfig, precision: str,
                 strategy: tf.distribute.Strategy | None = None):
        self.networks = networks
        self.config = config
        self.strategy = strategy or tf.distribute.get_strategy()
        self.policy = diffaug.parse_policy(config.diffaugment)
        self.noise_dim = noise_size(config.model)
        self.joint_text = config.model.text.mode == "joint"
        # XLA fuses the many elementwise ops of the fusion blocks; the strategy path stays unjitted.
        self.jit = bool(config.jit) and isinstance(self.strategy, tf.distribute.OneDeviceStrategy | type(tf.distribute.get_strategy()))
        with self.strategy.scope():
            self.opt_g = keras.optimizers.Adam(config.lr_g, beta_1=config.beta1, beta_2=config.beta2)
            self.opt_d = keras.optimizers.Adam(config.lr_d, beta_1=config.beta1, beta_2=config.beta2)
            self.ema_generator = build_generator(config.model, precision, name="ema_generator")
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            # LeCam's running means of D's real and fake scores (written once per step, cross-replica)
            self.lecam_means = tf.Variable([0.0, 0.0], trainable=False, name="lecam_means")
            # The text-alignment projections: a training-only part of D, updated by D's optimizer.
            self.contrast = None
            if config.contrastive_weight > 0:
                channels = self.networks.discriminator.backbone.output.shape[-1]
                self.contrast = build_contrast_heads(channels, sentence_dim(config.model.text), config.contrastive_dim)
                self._contrast_weights = tf.Module()  # listed for the state, as the EMA's below
                self._contrast_weights.variables_by_index = list(self.contrast.weights)
            self.opt_g.build(self.networks.generator.trainable_variables)
            self.opt_d.build(self.d_variables)
        self.ema_generator.set_weights(self.networks.generator.get_weights())
        # The EMA's weights, listed for the state: tf.train.Checkpoint does not reach the layers that
        # Keras 3 nests inside the custom blocks (G's and D's are saved through the optimizers' lists;
        # nothing else lists the EMA's), so before this most of the average was lost on resume.
        self._ema_weights = tf.Module()
        self._ema_weights.variables_by_index = list(self.ema_generator.weights)
        self.last_gp = 0.0  # latest lazy MA-GP value, reported on the steps that skip it
        self.lr_scale = None  # set by set_lr_scale before the first step (a restore brings back old rates)
        # Two traced steps: with and without the (lazy) gradient penalty.
        self._step_fns = {gp: tf.function(functools.partial(self._distributed_step, with_gp=gp), reduce_retracing=True, jit_compile=self.jit)
                          for gp in (True, False)}

    def set_lr_scale(self, scale: float) -> None:
        """Both optimizers' rates = config rate x scale; the traced steps read them, so no retrace."""
        if scale != self.lr_scale:
            self.opt_g.learning_rate = self.config.lr_g * scale
            self.opt_d.learning_rate = self.config.lr_d * scale
            self.lr_scale = scale

    @property
    def d_variables(self):
        extra = self.networks.text_encoder.trainable_variables if self.joint_text else []
        if self.contrast is not None:
            extra = extra + self.contrast.trainable_variables
        return self.networks.discriminator.trainable_variables + extra

    def checkpoint_objects(self) -> dict:
        objects = {"generator": self.networks.generator, "discriminator": self.networks.discriminator,
                   "text_encoder": self.networks.text_encoder, "ema_generator": self.ema_generator,
                   "ema_weights": self._ema_weights, "opt_g": self.opt_g, "opt_d": self.opt_d, "step": self.step}
        if self.config.lecam_weight > 0:  # only then: states of runs without it stay restorable as they are
            objects["lecam_means"] = self.lecam_means
        if self.contrast is not None:
            objects["d_contrast"] = self._contrast_weights
        return objects

    def restore(self, path: str) -> bool:
        """Restore a saved state; False when it predates "ema_weights" and so holds only part of the
        EMA: the average then restarts from the restored generator (the best guess left)."""
        objects = self.checkpoint_objects()
        complete = holds_whole_ema(path)
        if not complete:
            del objects["ema_weights"]
        tf.train.Checkpoint(**objects).restore(path).assert_existing_objects_matched()
        if not complete:
            self.ema_generator.set_weights(self.networks.generator.get_weights())
        return complete

    # -- randomness -------------------------------------------------------------------------
    def _normal(self, purpose: int, total, offset, rows):
        seed = tf.stack([tf.cast(self.config.seed, tf.int64), self.step * 16 + purpose])
        draws = tf.random.stateless_normal([total, self.noise_dim], seed=seed)
        return draws[offset: offset + rows]

    def _aug(self, images, purpose: int, total, offset):
        if not self.policy:
            return images
        seed = tf.stack([tf.cast(self.config.seed, tf.int64), self.step * 16 + purpose])
        return diffaug.diff_augment(images, seed, self.policy, offset, total)

    # -- the step ---------------------------------------------------------------------------
    def _replica_step(self, batch, with_gp: bool):
        cfg = self.config
        nets = self.networks
        ctx = tf.distribute.get_replica_context()
        replicas = ctx.num_replicas_in_sync
        rows = tf.shape(batch["images"])[0]
        total = rows * replicas
        offset = tf.cast(ctx.replica_id_in_sync_group, tf.int32) * rows
        real = batch["images"]
        d_loss_fn, g_loss_fn = (losses.hinge_d, losses.hinge_g) if cfg.model.arch == "dfgan" else (losses.bce_d, losses.bce_g)

        # Mode seeking at no extra cost: in every group of 4 rows the last fake reuses the first
        # one's caption with other noise, so those pairs show whether z changes the image. Groups
        # never straddle replicas, so a mirrored step pairs exactly as one device does.
        use_ms = cfg.mode_seeking_weight > 0
        index = tf.range(rows)
        paired = index % 4 == 3
        source = tf.where(paired & use_ms, index - 3, index)
        gen_captions = tf.gather(batch["captions"], source)
        noise = self._normal(0, total, offset, rows)

        with tf.GradientTape() as g_tape:
            # One generator forward serves both updates: D sees it detached, G's loss uses it after
            # D has been updated (alternating updates, as in DF-GAN).
            with g_tape.stop_recording():
                gen_sent = tf.stop_gradient(nets.text_encoder(gen_captions, training=False))
            fake, kl = nets.generate(noise, gen_sent, training=True)
            with g_tape.stop_recording():
                d_metrics, real_code = self._d_update(real, tf.stop_gradient(fake), gen_sent, batch, with_gp,
                                                      d_loss_fn, replicas, total, offset)
            fake_aug = self._aug(fake, 3, total, offset)
            if self.contrast is None:
                g_loss = g_loss_fn(nets.discriminator([fake_aug, gen_sent], training=True), replicas) + kl / replicas
            else:
                fake_feats = nets.discriminator.backbone(fake_aug, training=True)
                d_gen = nets.discriminator.head([fake_feats, gen_sent], training=True)
                g_loss = g_loss_fn(d_gen, replicas) + kl / replicas
                # XMC-GAN's G terms: its image against the batch's captions, and against the batch's
                # real images with the real of the same caption as the right one.
                fake_code, gen_sent_code = self.contrast([fake_feats, gen_sent], training=True)
                tau = cfg.contrastive_temperature
                g_loss += cfg.contrastive_weight * (losses.info_nce_pairs(fake_code, gen_sent_code, tau, replicas)
                                                    + losses.info_nce(fake_code, real_code, source, tau, replicas))
            ms = tf.constant(0.0)
            if use_ms:
                last, first = tf.where(paired)[:, 0], tf.where(paired)[:, 0] - 3
                ms = losses.mode_seeking(tf.gather(fake, last), tf.gather(fake, first), tf.gather(noise, last),
                                         tf.gather(noise, first), replicas=replicas)
                g_loss += cfg.mode_seeking_weight * ms
        g_vars = nets.generator.trainable_variables
        self.opt_g.apply_gradients(zip(g_tape.gradient(g_loss, g_vars), g_vars))
        return {**d_metrics, "g_loss": g_loss, "ms": ms, "kl": kl / replicas if cfg.model.arch == "dcgan" else ms * 0.0}

    def _d_scores(self, real_aug, fake_aug, sent, gen_sent, wrong):
        """D on real/right, fake/right, real/wrong -> (all scores [3B], real/right scores [B], D's
        backbone features of the real images, or None without a backbone/head split).

        With a backbone/head split (dfgan) the real images pass the backbone once for both captions.
        """
        disc = self.networks.discriminator
        rows = tf.shape(real_aug)[0]
        if hasattr(disc, "backbone"):
            feats = disc.backbone(tf.concat([real_aug, fake_aug], axis=0), training=True)
            real_feats = feats[:rows]
            scores = disc.head([tf.concat([feats, real_feats], axis=0), tf.concat([sent, gen_sent, wrong], axis=0)],
                               training=True)
        else:
            real_feats = None
            scores = disc([tf.concat([real_aug, fake_aug, real_aug], axis=0), tf.concat([sent, gen_sent, wrong], axis=0)],
                          training=True)
        return scores, scores[:rows], real_feats

    def _d_update(self, real, fake, gen_sent, batch, with_gp, d_loss_fn, replicas, total, offset):
        cfg = self.config
        nets = self.networks
        rows = tf.shape(real)[0]
        mean = lambda t: tf.reduce_mean(tf.cast(t, tf.float32)) / replicas  # noqa: E731
        with tf.GradientTape() as tape:
            sent = nets.text_encoder(batch["captions"], training=self.joint_text)
            wrong = nets.text_encoder(batch["wrong_captions"], training=self.joint_text)
            if not self.joint_text:
                sent, wrong = tf.stop_gradient(sent), tf.stop_gradient(wrong)
            real_aug = self._aug(real, 1, total, offset)
            fake_aug = self._aug(fake, 2, total, offset)
            if with_gp:
                with tf.GradientTape() as gp_tape:
                    gp_tape.watch([real_aug, sent])
                    scores, real_scores, real_feats = self._d_scores(real_aug, fake_aug, sent, gen_sent, wrong)
                g_img, g_sent = gp_tape.gradient(real_scores, [real_aug, sent])  # = grad of their sum
                # Lazy regularisation (StyleGAN2): every gp_every steps with the weight scaled up.
                gp = losses.ma_gp(g_img, g_sent, cfg.gp_weight * cfg.gp_every, cfg.gp_power, replicas)
            else:
                scores, _, real_feats = self._d_scores(real_aug, fake_aug, sent, gen_sent, wrong)
                gp = tf.constant(0.0)
            d_real, d_fake, d_wrong = scores[:rows], scores[rows: 2 * rows], scores[2 * rows:]
            d_loss = d_loss_fn(d_real, d_fake, d_wrong, replicas) + gp
            if cfg.lecam_weight > 0:
                on = tf.cast(self.step >= cfg.lecam_start, tf.float32)
                d_loss += on * cfg.lecam_weight * losses.lecam(d_real, d_fake, self.lecam_means[0],
                                                               self.lecam_means[1], replicas)
            contrast, real_code = tf.constant(0.0), tf.zeros([rows, 1])
            if self.contrast is not None:  # XMC-GAN's D term: real images against the batch's captions
                real_code, sent_code = self.contrast([real_feats, sent], training=True)
                contrast = losses.info_nce_pairs(real_code, sent_code, cfg.contrastive_temperature, replicas)
                d_loss += cfg.contrastive_weight * contrast
        grads = tape.gradient(d_loss, self.d_variables)
        self.opt_d.apply_gradients(zip(grads, self.d_variables))
        metrics = {"d_loss": d_loss, "d_real": mean(d_real), "d_fake": mean(d_fake), "d_wrong": mean(d_wrong), "gp": gp,
                   "contrast": contrast}
        return metrics, tf.stop_gradient(real_code)

    def _ema_decay(self):
        """This step's EMA decay: constant ema_decay after ema_start, or (ema_halflife_images > 0)
        StyleGAN2-ADA's half-life in images, ramped up over the images seen so far."""
        cfg = self.config
        if cfg.ema_halflife_images <= 0:
            return tf.where(self.step < cfg.ema_start, 0.0, cfg.ema_decay)
        seen = tf.cast(self.step + 1, tf.float32) * float(cfg.batch_size)
        halflife = tf.constant(float(cfg.ema_halflife_images))
        if cfg.ema_rampup > 0:
            halflife = tf.minimum(halflife, seen * cfg.ema_rampup)
        return tf.pow(0.5, float(cfg.batch_size) / tf.maximum(halflife, 1e-8))

    def _update_ema(self):
        decay = self._ema_decay()
        for ema, var in zip(self.ema_generator.weights, self.networks.generator.weights):
            ema.assign(decay * ema + (1.0 - decay) * var)

    def _distributed_step(self, batch, with_gp: bool):
        per_replica = self.strategy.run(self._replica_step, args=(batch, with_gp))
        metrics = {k: self.strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None) for k, v in per_replica.items()}
        if self.config.lecam_weight > 0:  # before lecam_start the means just track the latest scores
            decay = tf.where(self.step < self.config.lecam_start, 0.0, self.config.lecam_decay)
            self.lecam_means.assign(decay * self.lecam_means + (1.0 - decay) * tf.stack([metrics["d_real"],
                                                                                          metrics["d_fake"]]))
        self._update_ema()
        self.step.assign_add(1)
        return metrics

    def train_step(self, batch) -> dict:
        """Run one step on a (distributed) batch; returns float metrics."""
        with_gp = self.config.gp_weight > 0 and int(self.step.numpy()) % self.config.gp_every == 0
        metrics = {k: float(v) for k, v in self._step_fns[with_gp](batch).items()}
        # The penalty runs every gp_every steps only; report its latest value on the others, so a
        # metrics log sampled every N steps never shows a constant 0.
        if with_gp:
            self.last_gp = metrics["gp"]
        metrics["gp"] = self.last_gp
        return metrics
