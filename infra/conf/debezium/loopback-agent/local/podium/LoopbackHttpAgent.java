package local.podium;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;

import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Java agent for the standalone Debezium Cassandra connector: its HTTP server (/ping, /health, /metrics)
 * is created with Jetty's {@code new Server(port)}, which binds 0.0.0.0 and has no host setting.
 * This agent rewrites {@code org.eclipse.jetty.server.AbstractNetworkConnector#getHost()} so that a
 * connector without an explicit host returns the agent argument (default 127.0.0.1).
 * Uses the ASM copy that ships inside the connector's jar-with-dependencies.
 *
 *   java -javaagent:loopback-agent.jar=127.0.0.1 -cp ... io.debezium.connector.cassandra.CassandraConnectorTask ...
 */
public final class LoopbackHttpAgent {
    private static volatile String host = "127.0.0.1";

    private LoopbackHttpAgent() {
    }

    /** Called from the rewritten getHost(): null (= all interfaces) becomes the loopback host. */
    public static String orLoopback(String h) {
        return h == null ? host : h;
    }

    public static void premain(String args, Instrumentation inst) {
        if (args != null && !args.isEmpty()) {
            host = args;
        }
        inst.addTransformer(new ClassFileTransformer() {
            @Override
            public byte[] transform(ClassLoader loader, String name, Class<?> cls, ProtectionDomain pd, byte[] bytes) {
                if (!"org/eclipse/jetty/server/AbstractNetworkConnector".equals(name)) {
                    return null;
                }
                try {
                    ClassReader cr = new ClassReader(bytes);
                    ClassWriter cw = new ClassWriter(cr, 0);
                    cr.accept(new ClassVisitor(Opcodes.ASM9, cw) {
                        @Override
                        public MethodVisitor visitMethod(int acc, String n, String d, String sig, String[] ex) {
                            MethodVisitor mv = super.visitMethod(acc, n, d, sig, ex);
                            if (!"getHost".equals(n) || !"()Ljava/lang/String;".equals(d)) {
                                return mv;
                            }
                            return new MethodVisitor(Opcodes.ASM9, mv) {
                                @Override
                                public void visitInsn(int op) {
                                    if (op == Opcodes.ARETURN) {
                                        super.visitMethodInsn(Opcodes.INVOKESTATIC, "local/podium/LoopbackHttpAgent",
                                                "orLoopback", "(Ljava/lang/String;)Ljava/lang/String;", false);
                                    }
                                    super.visitInsn(op);
                                }
                            };
                        }
                    }, 0);
                    System.err.println("[loopback-agent] Jetty connectors without a host now bind " + host);
                    return cw.toByteArray();
                } catch (Throwable t) {
                    System.err.println("[loopback-agent] FAILED to patch " + name + ": " + t);
                    return null;
                }
            }
        });
    }
}
